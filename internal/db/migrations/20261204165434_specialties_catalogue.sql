-- The catalogue of medical specialties: the 55 specialties the Federal
-- Council of Medicine recognises (CFM Resolution 2.330/2023), with their
-- official Portuguese names, English names and stable codes.

-- specialty_fold is how a typed name is compared with the catalogue's:
-- without case, accents, surrounding or repeated blanks. Registration,
-- search and the mapping below all compare through it.
CREATE FUNCTION specialty_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(lower(translate(t,
    'ÁÀÂÃÄÅáàâãäåÉÈÊËéèêëÍÌÎÏíìîïÓÒÔÕÖóòôõöÚÙÛÜúùûüÇçÑñ',
    'AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNn')), '\s+', ' ', 'g'))
$$;

-- No two entries read the same once folded, in either language; the
-- indexes also serve the look-ups by name.
CREATE UNIQUE INDEX "specialties_name_folded" ON "specialties" (specialty_fold("name"));
CREATE UNIQUE INDEX "specialties_name_en_folded" ON "specialties" (specialty_fold("name_en"));

INSERT INTO "specialties" ("created_at", "code", "name", "name_en") SELECT now(), v.* FROM (VALUES
  ('acupuntura', 'Acupuntura', 'Acupuncture'),
  ('alergia-e-imunologia', 'Alergia e Imunologia', 'Allergy and Immunology'),
  ('anestesiologia', 'Anestesiologia', 'Anesthesiology'),
  ('angiologia', 'Angiologia', 'Angiology'),
  ('cardiologia', 'Cardiologia', 'Cardiology'),
  ('cirurgia-cardiovascular', 'Cirurgia Cardiovascular', 'Cardiovascular Surgery'),
  ('cirurgia-da-mao', 'Cirurgia da Mão', 'Hand Surgery'),
  ('cirurgia-de-cabeca-e-pescoco', 'Cirurgia de Cabeça e Pescoço', 'Head and Neck Surgery'),
  ('cirurgia-do-aparelho-digestivo', 'Cirurgia do Aparelho Digestivo', 'Digestive System Surgery'),
  ('cirurgia-geral', 'Cirurgia Geral', 'General Surgery'),
  ('cirurgia-oncologica', 'Cirurgia Oncológica', 'Surgical Oncology'),
  ('cirurgia-pediatrica', 'Cirurgia Pediátrica', 'Pediatric Surgery'),
  ('cirurgia-plastica', 'Cirurgia Plástica', 'Plastic Surgery'),
  ('cirurgia-toracica', 'Cirurgia Torácica', 'Thoracic Surgery'),
  ('cirurgia-vascular', 'Cirurgia Vascular', 'Vascular Surgery'),
  ('clinica-medica', 'Clínica Médica', 'Internal Medicine'),
  ('coloproctologia', 'Coloproctologia', 'Coloproctology'),
  ('dermatologia', 'Dermatologia', 'Dermatology'),
  ('endocrinologia-e-metabologia', 'Endocrinologia e Metabologia', 'Endocrinology and Metabolism'),
  ('endoscopia', 'Endoscopia', 'Endoscopy'),
  ('gastroenterologia', 'Gastroenterologia', 'Gastroenterology'),
  ('genetica-medica', 'Genética Médica', 'Medical Genetics'),
  ('geriatria', 'Geriatria', 'Geriatrics'),
  ('ginecologia-e-obstetricia', 'Ginecologia e Obstetrícia', 'Gynecology and Obstetrics'),
  ('hematologia-e-hemoterapia', 'Hematologia e Hemoterapia', 'Hematology and Hemotherapy'),
  ('homeopatia', 'Homeopatia', 'Homeopathy'),
  ('infectologia', 'Infectologia', 'Infectious Diseases'),
  ('mastologia', 'Mastologia', 'Mastology'),
  ('medicina-de-emergencia', 'Medicina de Emergência', 'Emergency Medicine'),
  ('medicina-de-familia-e-comunidade', 'Medicina de Família e Comunidade', 'Family and Community Medicine'),
  ('medicina-do-trabalho', 'Medicina do Trabalho', 'Occupational Medicine'),
  ('medicina-de-trafego', 'Medicina de Tráfego', 'Traffic Medicine'),
  ('medicina-esportiva', 'Medicina Esportiva', 'Sports Medicine'),
  ('medicina-fisica-e-reabilitacao', 'Medicina Física e Reabilitação', 'Physical Medicine and Rehabilitation'),
  ('medicina-intensiva', 'Medicina Intensiva', 'Intensive Care Medicine'),
  ('medicina-legal-e-pericia-medica', 'Medicina Legal e Perícia Médica', 'Legal Medicine and Medical Expertise'),
  ('medicina-nuclear', 'Medicina Nuclear', 'Nuclear Medicine'),
  ('medicina-preventiva-e-social', 'Medicina Preventiva e Social', 'Preventive and Social Medicine'),
  ('nefrologia', 'Nefrologia', 'Nephrology'),
  ('neurocirurgia', 'Neurocirurgia', 'Neurosurgery'),
  ('neurologia', 'Neurologia', 'Neurology'),
  ('nutrologia', 'Nutrologia', 'Nutrology'),
  ('oftalmologia', 'Oftalmologia', 'Ophthalmology'),
  ('oncologia-clinica', 'Oncologia Clínica', 'Clinical Oncology'),
  ('ortopedia-e-traumatologia', 'Ortopedia e Traumatologia', 'Orthopedics and Traumatology'),
  ('otorrinolaringologia', 'Otorrinolaringologia', 'Otorhinolaryngology'),
  ('patologia', 'Patologia', 'Pathology'),
  ('patologia-clinica-medicina-laboratorial', 'Patologia Clínica/Medicina Laboratorial', 'Clinical Pathology/Laboratory Medicine'),
  ('pediatria', 'Pediatria', 'Pediatrics'),
  ('pneumologia', 'Pneumologia', 'Pulmonology'),
  ('psiquiatria', 'Psiquiatria', 'Psychiatry'),
  ('radiologia-e-diagnostico-por-imagem', 'Radiologia e Diagnóstico por Imagem', 'Radiology and Diagnostic Imaging'),
  ('radioterapia', 'Radioterapia', 'Radiation Oncology'),
  ('reumatologia', 'Reumatologia', 'Rheumatology'),
  ('urologia', 'Urologia', 'Urology')
) AS v;

-- A doctor's code names an entry; entries are never removed.
ALTER TABLE "doctors" ADD CONSTRAINT "doctors_specialty_code_fkey"
  FOREIGN KEY ("specialty_code") REFERENCES "specialties" ("code");

-- Doctors registered before the catalogue: a free-text specialty that
-- names an entry in either language (case and accents aside) gets its
-- code. The text stays as it was typed; the API shows the entry's name.
-- What matches nothing keeps an empty code and is listed to admins
-- (unmatchedSpecialties) until an entry for it is added.
UPDATE "doctors" d SET "specialty_code" = s."code"
FROM "specialties" s
WHERE d."specialty_code" IS NULL
  AND (specialty_fold(s."name") = specialty_fold(d."specialty")
    OR specialty_fold(s."name_en") = specialty_fold(d."specialty"));

-- Writers that only know the free text (imports, scripts, bulk loads)
-- get the same mapping: a row written without a code, or whose text
-- changes while its code does not, takes the code of the entry its text
-- names, if any.
CREATE FUNCTION doctors_specialty_code() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  folded text;
BEGIN
  IF NEW."specialty_code" IS NULL
     OR (TG_OP = 'UPDATE' AND NEW."specialty" IS DISTINCT FROM OLD."specialty"
         AND NEW."specialty_code" IS NOT DISTINCT FROM OLD."specialty_code") THEN
    folded := specialty_fold(NEW."specialty");
    NEW."specialty_code" := (SELECT s."code" FROM "specialties" s
      WHERE specialty_fold(s."name") = folded OR specialty_fold(s."name_en") = folded
      ORDER BY s."id" LIMIT 1);
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "doctors_specialty_code"
  BEFORE INSERT OR UPDATE OF "specialty", "specialty_code" ON "doctors"
  FOR EACH ROW EXECUTE FUNCTION doctors_specialty_code();
