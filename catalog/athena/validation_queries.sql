-- Generated from catalog/tables.toml by `python -m stedi.query.athena_ddl`: do not edit.
-- Row counts of every table, zone by zone: run them in Athena, or on the embedded stack with
--   stedi query --file catalog/athena/validation_queries.sql
-- and compare with the run summary (`stedi pipeline --summary`).

-- landing
SELECT 'customer_landing' AS table_name, 'landing' AS zone, count(*) AS row_count FROM stedi.customer_landing;
SELECT 'accelerometer_landing' AS table_name, 'landing' AS zone, count(*) AS row_count FROM stedi.accelerometer_landing;
SELECT 'step_trainer_landing' AS table_name, 'landing' AS zone, count(*) AS row_count FROM stedi.step_trainer_landing;

-- trusted
SELECT 'customer_trusted' AS table_name, 'trusted' AS zone, count(*) AS row_count FROM stedi.customer_trusted;
SELECT 'accelerometer_trusted' AS table_name, 'trusted' AS zone, count(*) AS row_count FROM stedi.accelerometer_trusted;
SELECT 'step_trainer_trusted' AS table_name, 'trusted' AS zone, count(*) AS row_count FROM stedi.step_trainer_trusted;

-- curated
SELECT 'customers_curated' AS table_name, 'curated' AS zone, count(*) AS row_count FROM stedi.customers_curated;
SELECT 'machine_learning_curated' AS table_name, 'curated' AS zone, count(*) AS row_count FROM stedi.machine_learning_curated;
