-- Create index "feedback_appointment_id" to table: "feedbacks"
CREATE UNIQUE INDEX "feedback_appointment_id" ON "feedbacks" ("appointment_id");
