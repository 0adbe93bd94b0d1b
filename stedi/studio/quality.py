"""`from awsgluedq.transforms import EvaluateDataQuality`: a DQDL ruleset evaluated on a frame.

`EvaluateDataQuality().process_rows(frame=, ruleset=, ...)` returns Glue's collection: the rule
outcomes ("ruleOutcomes": Rule, Outcome, FailureReason, EvaluatedMetrics) and the rows with their
outcome ("rowLevelOutcomes": DataQualityRulesPass, DataQualityRulesFail, DataQualityRulesSkip,
DataQualityEvaluationResult; IsComplete and ColumnValues are judged row by row, the other rules
are about the whole frame and are skipped there). `EvaluateDataQuality.apply` returns the rule
outcomes alone. As on AWS, a failed rule fails nothing by itself: Studio's "fail the job" option
is an `assert` over the rule outcomes in the script, and that runs here unchanged. Publishing
options (CloudWatch, the Data Quality results) have nowhere to go locally and are ignored.
"""

from __future__ import annotations

from stedi.studio import dqdl
from stedi.studio.frames import DynamicFrame, DynamicFrameCollection
from stedi.studio.session import say


class EvaluateDataQuality:
    DATA_QUALITY_RULE_OUTCOMES_KEY = "ruleOutcomes"
    DATA_QUALITY_ROW_LEVEL_OUTCOMES_KEY = "rowLevelOutcomes"

    def process_rows(self, frame: DynamicFrame, ruleset: str, publishing_options: dict | None = None,
                     additional_options: dict | None = None) -> DynamicFrameCollection:
        outcomes, rules = _evaluate(frame, ruleset, publishing_options)
        return DynamicFrameCollection({
            self.DATA_QUALITY_RULE_OUTCOMES_KEY: _outcome_frame(frame, outcomes),
            self.DATA_QUALITY_ROW_LEVEL_OUTCOMES_KEY: _row_level(frame, rules, outcomes),
        }, frame.glue_ctx)

    @classmethod
    def apply(cls, frame: DynamicFrame, ruleset: str, publishing_options: dict | None = None,
              transformation_ctx: str = "", **kwargs) -> DynamicFrame:
        outcomes, _ = _evaluate(frame, ruleset, publishing_options)
        return _outcome_frame(frame, outcomes)


def _evaluate(frame: DynamicFrame, ruleset: str, publishing_options: dict | None):
    rules = dqdl.parse(ruleset)
    outcomes = dqdl.evaluate(rules, frame.toDF())
    context = (publishing_options or {}).get("dataQualityEvaluationContext", "default_context")
    passed = sum(o.passed for o in outcomes)
    details = "; ".join(f"{o.rule}: {'passed' if o.passed else 'FAILED'}"
                        + (f" ({', '.join(f'{k} = {v:g}' for k, v in o.metrics.items())})" if o.metrics else "")
                        + (f", {o.reason}" if o.reason else "") for o in outcomes)
    say(f"data quality {context}: {passed} of {len(outcomes)} rules passed ({details})")
    return outcomes, rules


def _outcome_frame(frame: DynamicFrame, outcomes) -> DynamicFrame:
    spark = frame.spark
    rows = [(o.rule, "Passed" if o.passed else "Failed", o.reason, {k: float(v) for k, v in o.metrics.items()})
            for o in outcomes]
    schema = "Rule string, Outcome string, FailureReason string, EvaluatedMetrics map<string,double>"
    return DynamicFrame(spark.createDataFrame(rows, schema), frame.glue_ctx, "ruleOutcomes")


def _row_level(frame: DynamicFrame, rules, outcomes) -> DynamicFrame:
    from pyspark.sql import functions as F

    df = frame.toDF()
    names = {c.lower(): c for c in df.columns}
    passes, fails, skips = [], [], []
    for rule in rules:
        column = names.get(rule.columns[0].lower()) if rule.columns else None
        if rule.kind == "IsComplete" and column:
            test = F.col(f"`{column}`").isNotNull()
        elif rule.kind == "ColumnValues" and column:
            test = dqdl._holds(rule.condition, F.col(f"`{column}`"))
        else:
            skips.append(F.lit(rule.text))
            continue
        passes.append(F.when(test, F.lit(rule.text)))
        fails.append(F.when(~test, F.lit(rule.text)))

    def listed(items):
        if not items:
            return F.array().cast("array<string>")
        return F.filter(F.array(*items), lambda x: x.isNotNull())

    df = df.select("*", listed(passes).alias("DataQualityRulesPass"), listed(fails).alias("DataQualityRulesFail"),
                   listed(skips).alias("DataQualityRulesSkip"))
    result = F.when(F.size("DataQualityRulesFail") > 0, "Failed").otherwise("Passed")
    return DynamicFrame(df.withColumn("DataQualityEvaluationResult", result), frame.glue_ctx, "rowLevelOutcomes")
