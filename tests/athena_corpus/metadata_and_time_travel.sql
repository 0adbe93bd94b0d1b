-- Iceberg's metadata tables and time travel, as Athena writes them.
SELECT count(*) FROM "customer_trusted$snapshots";
SELECT operation, count(*) FROM "stedi"."customer_trusted$snapshots" GROUP BY operation ORDER BY operation;
SELECT snapshot_id, parent_id, operation FROM "machine_learning_curated$snapshots" ORDER BY committed_at;
SELECT CAST(element_at(summary, 'total-records') AS bigint) AS records FROM "customer_trusted$snapshots" ORDER BY committed_at;
SELECT count(*) FROM "customer_trusted$history";
SELECT snapshot_id, parent_id, is_current_ancestor FROM "customer_trusted$history" ORDER BY made_current_at;
SELECT count(*) FROM customer_trusted FOR VERSION AS OF ${snapshot_first};
SELECT count(*) FROM customer_trusted FOR VERSION AS OF ${snapshot_last};
SELECT count(*) FROM customer_trusted FOR TIMESTAMP AS OF TIMESTAMP '${instant_after_run} UTC';
SELECT count(*) FROM awsdatacatalog.stedi.customer_trusted FOR VERSION AS OF ${snapshot_last} WHERE sharewithresearchasofdate > 0;
