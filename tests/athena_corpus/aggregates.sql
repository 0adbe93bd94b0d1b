-- Aggregates, exact and approximate.
SELECT count(DISTINCT email), count(DISTINCT serialnumber) FROM customer_landing;
SELECT approx_distinct(email) FROM customer_landing;
SELECT count_if(sharewithresearchasofdate IS NULL) FROM customer_landing;
SELECT count(*) FILTER (WHERE x > 0) AS positive, count(*) FILTER (WHERE x <= 0) AS other FROM accelerometer_trusted;
SELECT min(distancefromobject), max(distancefromobject), sum(distancefromobject) FROM step_trainer_trusted;
SELECT round(avg(distancefromobject), 4) FROM step_trainer_landing;
SELECT round(stddev(x), 6), round(variance(y), 6) FROM accelerometer_landing;
SELECT bool_and(distancefromobject >= 0), bool_or(distancefromobject > 9000) FROM step_trainer_trusted;
SELECT approx_percentile(distancefromobject, 0.5) FROM step_trainer_trusted;
SELECT max_by(user, "timestamp") FROM accelerometer_trusted WHERE "timestamp" = (SELECT max("timestamp") FROM accelerometer_trusted);
SELECT device_id, count(*) AS n FROM machine_learning_curated GROUP BY device_id HAVING count(*) > 100 ORDER BY n DESC, device_id LIMIT 5;
SELECT count(*) FROM (SELECT user FROM accelerometer_landing GROUP BY user HAVING min("timestamp") < max("timestamp"));
