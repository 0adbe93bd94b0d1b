-- Generated from catalog/tables.toml by `python -m stedi.query.athena_ddl`: do not edit.
-- accelerometer_landing: the raw JSON under s3://stedi-lakehouse/accelerometer/landing/, as it landed.
CREATE EXTERNAL TABLE IF NOT EXISTS `stedi`.`accelerometer_landing` (
  `user` string,
  `timestamp` bigint,
  `x` double,
  `y` double,
  `z` double
)
COMMENT 'Accelerometer readings from the mobile app; `user` is the customer''s email.'
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'FALSE',
  'dots.in.keys' = 'FALSE',
  'case.insensitive' = 'TRUE',
  'mapping' = 'TRUE'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://stedi-lakehouse/accelerometer/landing/'
TBLPROPERTIES ('classification' = 'json');
