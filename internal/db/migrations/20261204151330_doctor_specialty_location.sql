-- Create index "doctor_specialty_location" to table: "doctors"
CREATE INDEX "doctor_specialty_location" ON "doctors" USING gist ("specialty", "location");
