-- Hand-written: files stored before names followed the sniffed type get
-- the extension of their type, as new uploads do (record.fileNameFor), so
-- that fileName never names a script or an application for a text file.
UPDATE "record_files"
SET "file_name" = regexp_replace("file_name", '\.[^.]*$', '') || CASE "content_type"
    WHEN 'application/pdf' THEN '.pdf'
    WHEN 'image/png' THEN '.png'
    WHEN 'image/jpeg' THEN '.jpg'
    WHEN 'application/dicom' THEN '.dcm'
    ELSE '.txt' END
WHERE lower("file_name") !~ CASE "content_type"
    WHEN 'application/pdf' THEN '.\.pdf$'
    WHEN 'image/png' THEN '.\.png$'
    WHEN 'image/jpeg' THEN '.\.(jpg|jpeg)$'
    WHEN 'application/dicom' THEN '.\.(dcm|dicom)$'
    ELSE '.\.(txt|text)$' END;
