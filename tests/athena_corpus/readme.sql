-- The queries the README shows.
SELECT count(*) FROM customer_trusted;
SELECT * FROM machine_learning_curated ORDER BY device_id, sensorreadingtime, "timestamp", x, y, z LIMIT 5;
SELECT line, reason FROM customer_landing_quarantine ORDER BY line;
SELECT count(*) FROM accelerometer_landing;
SELECT count(*) FROM step_trainer_trusted s JOIN accelerometer_trusted a ON s.sensorreadingtime = a.timestamp;
SELECT format_datetime(from_unixtime(timestamp / 1000), 'HH:mm') FROM accelerometer_landing;
SELECT committed_at, snapshot_id, parent_id, operation, CAST(element_at(summary, 'total-records') AS bigint) AS total_records FROM "customer_trusted$snapshots" ORDER BY committed_at;
SELECT * FROM "customer_trusted$history";
