-- Generated from catalog/tables.toml by `python -m stedi.query.athena_ddl`: do not edit.
-- step_trainer_landing: the raw JSON under s3://stedi-lakehouse/step_trainer/landing/, as it landed.
CREATE EXTERNAL TABLE IF NOT EXISTS `stedi`.`step_trainer_landing` (
  `sensorReadingTime` bigint,
  `serialNumber` string,
  `distanceFromObject` int
)
COMMENT 'Step Trainer distance readings, keyed by the device serial number.'
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'FALSE',
  'dots.in.keys' = 'FALSE',
  'case.insensitive' = 'TRUE',
  'mapping' = 'TRUE'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://stedi-lakehouse/step_trainer/landing/'
TBLPROPERTIES ('classification' = 'json');
