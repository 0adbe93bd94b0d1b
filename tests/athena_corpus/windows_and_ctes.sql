-- Window functions and common table expressions.
WITH per_user AS (SELECT user, count(*) AS n FROM accelerometer_trusted GROUP BY user) SELECT count(*), max(n), min(n) FROM per_user;
WITH ranked AS (SELECT serialnumber, sensorreadingtime, row_number() OVER (PARTITION BY serialnumber ORDER BY sensorreadingtime) AS rn FROM step_trainer_trusted) SELECT count(*) FROM ranked WHERE rn = 1;
SELECT serialnumber, sensorreadingtime, distancefromobject - lag(distancefromobject) OVER (PARTITION BY serialnumber ORDER BY sensorreadingtime) AS change FROM step_trainer_trusted ORDER BY serialnumber, sensorreadingtime LIMIT 10;
SELECT user, "timestamp", lead("timestamp") OVER (PARTITION BY user ORDER BY "timestamp") - "timestamp" AS gap_ms FROM accelerometer_trusted ORDER BY user, "timestamp", gap_ms LIMIT 10;
SELECT rank_of_day, count(*) FROM (SELECT rank() OVER (ORDER BY date_trunc('day', from_unixtime(registrationdate / 1000))) AS rank_of_day FROM customer_landing) GROUP BY 1 ORDER BY 1;
SELECT dense_rank() OVER (ORDER BY distancefromobject DESC) AS r, distancefromobject FROM (SELECT DISTINCT distancefromobject FROM step_trainer_trusted) ORDER BY r LIMIT 5;
SELECT device_id, sensorreadingtime, sum(distancefromobject) OVER (PARTITION BY device_id ORDER BY sensorreadingtime ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM machine_learning_curated ORDER BY device_id, sensorreadingtime, running LIMIT 10;
SELECT q, count(*) FROM (SELECT ntile(4) OVER (ORDER BY registrationdate, email) AS q FROM customer_trusted) GROUP BY q ORDER BY q;
SELECT user, round(avg(x) OVER (PARTITION BY user), 6) AS mean_x FROM accelerometer_trusted GROUP BY user, x ORDER BY user, mean_x LIMIT 5;
WITH consent AS (SELECT email, sharewithresearchasofdate AS since FROM customer_trusted), readings AS (SELECT a.user, a."timestamp" FROM accelerometer_landing a JOIN consent c ON a.user = c.email) SELECT count(*) FROM readings;
WITH c AS (SELECT serialnumber FROM customer_trusted), s AS (SELECT serialnumber, count(*) AS n FROM step_trainer_landing GROUP BY serialnumber) SELECT count(*), sum(n) FROM s WHERE serialnumber IN (SELECT serialnumber FROM c);
SELECT first_value(distancefromobject) OVER (PARTITION BY serialnumber ORDER BY sensorreadingtime) AS first, count(*) FROM step_trainer_trusted GROUP BY serialnumber, sensorreadingtime, distancefromobject ORDER BY first DESC, 2 LIMIT 3;
