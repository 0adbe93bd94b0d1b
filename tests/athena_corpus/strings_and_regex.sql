-- String and regular-expression functions on the landing JSON.
SELECT count(*) FROM customer_landing WHERE regexp_like(email, '^[A-Z][a-z]+\.[A-Za-z]+@test\.com$');
SELECT regexp_extract(email, '@(.+)$', 1) AS domain, count(*) FROM customer_landing GROUP BY 1 ORDER BY 2 DESC, 1;
SELECT regexp_extract(email, '^([A-Za-z]+)') AS first, count(*) FROM customer_landing GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
SELECT split_part(email, '@', 2) AS domain, count(*) FROM customer_landing GROUP BY 1 ORDER BY 1;
SELECT upper(substr(customername, 1, 1)) AS initial, count(*) FROM customer_landing GROUP BY 1 ORDER BY 1;
SELECT length(serialnumber), count(*) FROM customer_landing GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM customer_landing WHERE strpos(customername, ' ') > 0;
SELECT replace(birthday, '-', '/') AS b FROM customer_landing ORDER BY b LIMIT 3;
SELECT concat(substr(birthday, 1, 4), '-xx') || '-yy' AS masked, count(*) FROM customer_landing GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3;
SELECT count(*) FROM step_trainer_landing WHERE regexp_like(serialnumber, '^[0-9a-f-]{36}$');
SELECT lpad(CAST(distancefromobject AS varchar), 4, '0') AS padded FROM step_trainer_trusted ORDER BY padded LIMIT 3;
SELECT trim('  stedi  '), lower('STEDI'), reverse('stedi'), starts_with('stedi', 'st');
SELECT count(*) FROM customer_landing WHERE email <> lower(email);
SELECT regexp_replace(phone, '[0-9]', '#') AS shape, count(*) FROM customer_landing GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3;
