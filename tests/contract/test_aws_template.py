"""deploy/aws/template.yaml: lints clean offline, and the Lambda may only send to its queue,
read its one secret and write its own logs; the environment names the secret, never holds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint  # type: ignore[import-untyped]
from cfnlint.decode.decode import decode_str  # type: ignore[import-untyped]

pytestmark = pytest.mark.contract

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "template.yaml"
IAM_TYPES = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User",
             "AWS::IAM::Group", "AWS::IAM::RolePolicy", "AWS::IAM::InstanceProfile"}  # fmt: skip


def template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text())
    assert not errors
    assert decoded is not None
    return dict(decoded)


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_is_clean() -> None:
    assert [str(match) for match in lint(TEMPLATE.read_text())] == []


def test_cfn_lint_would_catch_a_broken_template() -> None:
    broken = TEMPLATE.read_text().replace("VisibilityTimeout: 60", "VisibilityTimout: 60")
    assert lint(broken) != []


def test_queue_has_a_redrive_policy_to_the_dead_letter_queue() -> None:
    queues = resources_of("AWS::SQS::Queue")
    redrive = queues["EngagementQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["EngagementDeadLetterQueue", "Arn"]}
    assert "RedrivePolicy" not in queues["EngagementDeadLetterQueue"]["Properties"]


def test_api_gateway_routes_post_webhooks_to_the_lambda() -> None:
    [function] = resources_of("AWS::Serverless::Function").values()
    props = function["Properties"]
    assert props["Handler"] == "webhook_bridge.lambda_handler.handler"
    event = props["Events"]["Webhook"]
    assert (event["Type"], event["Properties"]["Path"], event["Properties"]["Method"]) == (
        "Api", "/webhooks/{source}", "post",
    )  # fmt: skip
    assert props["Environment"]["Variables"]["CDCBRIDGE_WEBHOOKS_QUEUE_URL"] == {
        "Ref": "EngagementQueue"
    }


def test_lambda_role_grants_only_send_message_and_its_own_logs() -> None:
    iam = {name: r for name, r in template()["Resources"].items() if r["Type"] in IAM_TYPES}
    assert set(iam) == {"ReceiverRole"}
    role = iam["ReceiverRole"]["Properties"]
    assert set(role) == {"AssumeRolePolicyDocument", "Policies"}  # no managed policies
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert as_list(trust["Action"]) == ["sts:AssumeRole"]
    grants = set()
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    grants.add((action, str(resource)))
    assert grants == {
        ("sqs:SendMessage", str({"Fn::GetAtt": ["EngagementQueue", "Arn"]})),
        ("secretsmanager:GetSecretValue", str({"Ref": "SourcesSecretArn"})),
        ("logs:CreateLogStream", str({"Fn::GetAtt": ["ReceiverLogGroup", "Arn"]})),
        ("logs:PutLogEvents", str({"Fn::GetAtt": ["ReceiverLogGroup", "Arn"]})),
    }
    [function] = resources_of("AWS::Serverless::Function").values()
    props = function["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["ReceiverRole", "Arn"]}  # SAM adds no default role
    assert not {"Policies", "PermissionsBoundary"} & set(props)
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "ReceiverLogGroup"}


def test_the_environment_names_the_sources_secret_and_never_holds_it() -> None:
    [function] = resources_of("AWS::Serverless::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["CDCBRIDGE_WEBHOOKS_SOURCES_SECRET_ID"] == {"Ref": "SourcesSecretArn"}
    assert "CDCBRIDGE_WEBHOOKS_SOURCES_JSON" not in variables
    assert "resolve:secretsmanager" not in TEMPLATE.read_text()
