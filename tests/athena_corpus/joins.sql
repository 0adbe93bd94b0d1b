-- Joins of the landing JSON with the Iceberg tables, and set operations.
SELECT count(*) FROM customer_landing c JOIN customer_trusted t ON c.email = t.email;
SELECT count(*) FROM accelerometer_landing a JOIN customer_trusted c ON a.user = c.email;
SELECT count(*) FROM accelerometer_landing a JOIN customer_trusted c ON a.user = c.email WHERE a."timestamp" >= c.sharewithresearchasofdate;
SELECT count(*) FROM step_trainer_landing s JOIN customer_trusted c ON s.serialnumber = c.serialnumber;
SELECT count(*) FROM step_trainer_trusted s JOIN accelerometer_trusted a ON s.sensorreadingtime = a."timestamp";
SELECT count(*) FROM customer_landing c LEFT JOIN accelerometer_landing a ON a.user = c.email WHERE a.user IS NULL;
SELECT count(*) FROM customer_trusted c WHERE EXISTS (SELECT 1 FROM accelerometer_trusted a WHERE a.user = c.email);
SELECT count(*) FROM customer_trusted c WHERE NOT EXISTS (SELECT 1 FROM accelerometer_landing a WHERE a.user = c.email);
SELECT count(*) FROM (SELECT email FROM customer_landing UNION SELECT user FROM accelerometer_landing);
SELECT count(*) FROM (SELECT email FROM customer_landing UNION ALL SELECT email FROM customer_trusted);
SELECT count(*) FROM (SELECT serialnumber FROM customer_trusted INTERSECT SELECT serialnumber FROM step_trainer_landing);
SELECT count(*) FROM (SELECT serialnumber FROM step_trainer_landing EXCEPT SELECT serialnumber FROM customer_trusted);
SELECT c.device_id IS NOT NULL AS known, count(*) FROM machine_learning_curated m LEFT JOIN customers_curated c ON m.device_id = c.device_id GROUP BY 1;
