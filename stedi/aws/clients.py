"""One place that opens the AWS clients of a deployment, for its region.

Credentials come from boto3's standard chain and the endpoint from AWS_ENDPOINT_URL when
it is set (an emulator), so nothing here knows whether it talks to AWS or to moto. What
differs between the two is probed, not assumed: `supports` asks the endpoint whether it
implements an update operation by calling it on a name that cannot exist, which changes
nothing anywhere and answers "not found" on AWS but HTTP 500 on an emulator that lacks it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from stedi.aws.errors import is_unsupported, translated
from stedi.lakehouse.deployment import AwsConfig

PROBE_NAME = "stedi-deploy-capability-probe-0000"
PROBES: dict[tuple[str, str], dict[str, Any]] = {
    ("glue", "update_job"): {
        "JobName": PROBE_NAME,
        "JobUpdate": {"Role": PROBE_NAME, "Command": {"Name": "glueetl", "ScriptLocation": "s3://probe/probe.py"}},
    },
    ("glue", "update_trigger"): {"Name": PROBE_NAME, "TriggerUpdate": {"Actions": [{"JobName": PROBE_NAME}]}},
    ("athena", "update_work_group"): {"WorkGroup": PROBE_NAME, "Description": "probe"},
    ("athena", "update_named_query"): {
        "NamedQueryId": "00000000-0000-0000-0000-000000000000",
        "Name": PROBE_NAME,
        "QueryString": "SELECT 1",
    },
    ("athena", "delete_named_query"): {"NamedQueryId": "00000000-0000-0000-0000-000000000000"},
}


@cache
def _shared_loader():
    """botocore's service-model loader, kept across sessions: loading the seven models is most of the
    cost of a plan, and they do not change while the process runs."""
    return botocore.session.get_session().get_component("data_loader")


def new_session(region: str) -> boto3.session.Session:
    """A fresh session (credentials resolved anew, from the standard chain) sharing the model loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    return boto3.session.Session(botocore_session=core, region_name=region)


class Aws:
    """The clients of one deployment, its account id, and what its endpoint supports."""

    def __init__(self, config: AwsConfig, *, session: boto3.session.Session | None = None, max_attempts: int = 4):
        from stedi.aws.errors import check_region

        check_region(config.region)
        self.config = config
        self.session = session or new_session(config.region)
        self.max_attempts = max_attempts
        self._config = Config(
            region_name=config.region,
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=5,
            read_timeout=60,
            user_agent_appid="stedi-deploy",
        )
        self._probe_config = self._config.merge(Config(retries={"mode": "standard", "max_attempts": 1}))
        self._clients: dict[str, Any] = {}
        self._supported: dict[tuple[str, str], bool] = {}
        self._account: str | None = None

    def with_config(self, config: AwsConfig) -> Aws:
        """The same session and retry settings for other settings (a policy given on the command line)."""
        if config == self.config:
            return self
        other = Aws(
            config,
            session=self.session if config.region == self.config.region else None,
            max_attempts=self.max_attempts,
        )
        other._account = self._account
        return other

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=self._config)
        return self._clients[service]

    @property
    def s3(self):
        return self.client("s3")

    @property
    def iam(self):
        return self.client("iam")

    @property
    def glue(self):
        return self.client("glue")

    @property
    def athena(self):
        return self.client("athena")

    @property
    def secrets(self):
        return self.client("secretsmanager")

    @property
    def ec2(self):
        return self.client("ec2")

    @property
    def account(self) -> str:
        """The account the credentials belong to; also the first call, so it checks them."""
        if self._account is None:
            with translated("sts", "checking the AWS credentials"):
                self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account

    def arn(self, service: str, resource: str) -> str:
        """The ARN of a regional resource of this deployment's account (`resource` as "job/name")."""
        return f"arn:{self.config.partition}:{service}:{self.config.region}:{self.account}:{resource}"

    @property
    def role_arn(self) -> str:
        return self.config.role_arn(self.account)

    @property
    def erasure_role_arn(self) -> str:
        return self.config.role_arn(self.account, self.config.erasure_role_name)

    def supports(self, service: str, operation: str) -> bool:
        """Whether the endpoint implements `operation`; asked once, on a name that does not exist."""
        key = (service, operation)
        if key not in self._supported:
            probe = self.session.client(service, config=self._probe_config)
            try:
                getattr(probe, operation)(**PROBES[key])
            except Exception as error:  # any answer but "not implemented" means it is supported
                self._supported[key] = not is_unsupported(error)
            else:
                self._supported[key] = True
        return self._supported[key]
