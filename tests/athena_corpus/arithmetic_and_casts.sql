-- Integer division, casts and numeric functions: where engines differ quietly.
SELECT registrationdate / 1000 AS seconds FROM customer_trusted ORDER BY seconds LIMIT 5;
SELECT sum(distancefromobject) / count(*) AS mean_int FROM step_trainer_trusted;
SELECT distancefromobject / 7 AS bucket, count(*) FROM step_trainer_landing GROUP BY 1 ORDER BY 1 LIMIT 10;
SELECT distancefromobject % 7 AS rest, count(*) FROM step_trainer_landing GROUP BY 1 ORDER BY 1;
SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3;
SELECT CAST(registrationdate AS varchar) AS text FROM customer_trusted ORDER BY text LIMIT 3;
SELECT CAST(distancefromobject AS double) / 4 AS quarter FROM step_trainer_trusted ORDER BY quarter DESC LIMIT 3;
SELECT CAST(x AS bigint) AS whole, count(*) FROM accelerometer_trusted GROUP BY 1 ORDER BY 1;
SELECT CAST('2022-06-18' AS date), CAST('42' AS integer), CAST(42 AS varchar);
SELECT round(avg(x), 3), round(avg(y), 3), round(avg(z), 3) FROM accelerometer_trusted;
SELECT abs(min(z)), ceil(max(x)), floor(min(y)) FROM accelerometer_landing;
SELECT round(sqrt(x * x + y * y + z * z), 2) AS magnitude, count(*) FROM machine_learning_curated GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
SELECT power(2, 10), sign(-3), greatest(1, 5, 3), least(1, 5, 3);
SELECT count(*) FROM accelerometer_landing WHERE TRY_CAST(user AS integer) IS NULL;
SELECT round(sum(x), 4) AS sx FROM machine_learning_curated;
SELECT coalesce(sharewithpublicasofdate, 0) > 0 AS public, count(*) FROM customer_landing GROUP BY 1 ORDER BY 1;
SELECT CASE WHEN distancefromobject < 100 THEN 'near' WHEN distancefromobject < 250 THEN 'mid' ELSE 'far' END AS band, count(*) FROM step_trainer_trusted GROUP BY 1 ORDER BY 1;
SELECT if(x > 0, 'right', 'left') AS side, count(*) FROM accelerometer_trusted GROUP BY 1 ORDER BY 1;
