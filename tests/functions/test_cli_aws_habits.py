"""The `nurture` command as an operator used to the AWS CLI runs it: the profile and region found the same way, a
default stack from the environment, and one clear line with a documented exit code when the AWS setup is wrong,
never a traceback (unless asked for with --debug). Run as a process, against a stand-in CloudFormation endpoint:
nothing here reaches AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nurture.cli import exit_codes
from tests.conftest import REPO

NURTURE = Path(sys.executable).parent / "nurture"


def run(tmp_path: Path, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """`nurture ARGS` with no AWS credentials or region but those given, a profile `work` (its own keys, a region),
    and no instance metadata."""
    (tmp_path / "aws-config").write_text("[profile work]\nregion = eu-west-1\n", encoding="utf-8")
    (tmp_path / "aws-credentials").write_text("[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = x\n",
                                              encoding="utf-8")
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
             "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"), "AWS_EC2_METADATA_DISABLED": "true",
             **environment}
    return subprocess.run([str(NURTURE), *args], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120)


def said_in_one_line(done: subprocess.CompletedProcess[str], expected: str) -> bool:
    lines = done.stderr.strip().splitlines()
    return len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr


class StandInAws(BaseHTTPRequestHandler):
    """Answers CloudFormation with the status and body the test sets, DynamoDB with nothing found; keeps each
    request's signature."""

    status, body = 400, b""
    dynamodb_error: str | None = None  # DynamoDB's error code for every call, if any
    signatures: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.signatures.append(self.headers.get("Authorization", ""))
        dynamodb = (self.headers.get("X-Amz-Target") or "").startswith("DynamoDB")
        status, body = (self.status, self.body) if not dynamodb else (200, b"{}") if not self.dynamodb_error else (
            400, json.dumps({"__type": f"com.amazon.coral.service#{self.dynamodb_error}", "message": "no"}).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0" if dynamodb else "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, type[StandInAws]]]:
    answer = type("Answer", (StandInAws,), {"signatures": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answer
    server.shutdown()


def error(code: str, message: str) -> bytes:
    return (f'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
            ).encode()


KEYS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-secret"}


def test_no_credentials_is_one_line_and_exit_code_253(tmp_path):
    done = run(tmp_path, "sending", "status", "--stack", "Nurture", "--region", "ap-northeast-1")
    assert done.returncode == exit_codes.AWS_SETUP == 253
    assert said_in_one_line(done, "No usable AWS credentials")
    assert "aws sso login" in done.stderr


def status_with_lookup_refused(tmp_path: Path, cloudformation: tuple[str, type[StandInAws]], code: str,
                               message: str, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """`nurture sending status ARGS` while CloudFormation answers the stack's lookup with the error `code`."""
    endpoint, answer = cloudformation
    answer.body = error(code, message)
    return run(tmp_path, "sending", "status", *args, AWS_ENDPOINT_URL_CLOUDFORMATION=endpoint, **environment)


def test_the_stack_comes_from_nurture_stack_and_the_region_from_aws_region(tmp_path, cloudformation):
    done = status_with_lookup_refused(tmp_path, cloudformation, "ValidationError", "Stack with id Shop does not exist",
                                      NURTURE_STACK="Shop", AWS_REGION="ap-southeast-2", **KEYS)
    assert done.returncode == exit_codes.BAD_INPUT
    assert said_in_one_line(done, "Stack Shop in ap-southeast-2: Stack with id Shop does not exist")


def test_the_region_comes_from_the_named_profile(tmp_path, cloudformation):
    done = status_with_lookup_refused(tmp_path, cloudformation, "ValidationError",
                                      "Stack with id Nurture does not exist", "--stack", "Nurture", "--profile", "work")
    assert said_in_one_line(done, "Stack Nurture in eu-west-1")


def stack_found(answer: type[StandInAws]) -> None:
    """CloudFormation answers the stack's lookup with Nurture's outputs."""
    outputs = "".join(f"<member><OutputKey>{key}</OutputKey><OutputValue>{value}</OutputValue></member>"
                      for key, value in (("ApiUrl", "https://t.example.co.jp/"), ("TableName", "Nurture-Table"),
                                         ("SigningKeyParameter", "/Nurture/keyring")))
    answer.status, answer.body = 200, (
        '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult>'
        "<Stacks><member><StackName>Nurture</StackName><StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/"
        "Nurture/1</StackId><CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE"
        f"</StackStatus><Outputs>{outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata>"
        "<RequestId>r-1</RequestId></ResponseMetadata></DescribeStacksResponse>").encode()


def test_a_named_profile_signs_every_call_even_with_keys_in_the_environment(tmp_path, cloudformation):
    endpoint, answer = cloudformation
    stack_found(answer)
    done = run(tmp_path, "sending", "status", "--stack", "Nurture", "--profile", "work", **KEYS,
               AWS_ENDPOINT_URL_CLOUDFORMATION=endpoint, AWS_ENDPOINT_URL_DYNAMODB=endpoint)
    assert done.returncode == 0, done.stderr
    assert "sending: active" in done.stdout
    # the stack's lookup and the guard's reads, each signed with the profile's key, not the exported one
    assert len(answer.signatures) >= 2
    assert all("Credential=AKIAWORK/" in signature for signature in answer.signatures), answer.signatures


@pytest.mark.parametrize("command", [("leads", "show", "0" * 32), ("tasks", "list", "--owner", "tanaka"),
                                     ("accounts", "list")])
def test_credentials_that_run_out_while_a_command_runs_are_one_line_and_exit_code_253(tmp_path, cloudformation,
                                                                                       command):
    endpoint, answer = cloudformation
    stack_found(answer)
    answer.dynamodb_error = "ExpiredTokenException"  # after the stack's lookup: the command's own reads
    done = run(tmp_path, *command, "--stack", "Nurture", "--region", "ap-northeast-1", **KEYS,
               AWS_ENDPOINT_URL_CLOUDFORMATION=endpoint, AWS_ENDPOINT_URL_DYNAMODB=endpoint)
    assert done.returncode == exit_codes.AWS_SETUP, done.stderr
    assert said_in_one_line(done, "AWS refused the credentials (ExpiredTokenException)")


def test_an_unknown_profile_is_one_line_and_exit_code_253(tmp_path):
    done = run(tmp_path, "sending", "status", "--stack", "Nurture", "--profile", "nosuch")
    assert done.returncode == exit_codes.AWS_SETUP
    assert said_in_one_line(done, "nosuch")


def test_no_region_anywhere_is_one_line_and_exit_code_253(tmp_path):
    done = run(tmp_path, "sending", "status", "--stack", "Nurture", **KEYS)
    assert done.returncode == exit_codes.AWS_SETUP
    assert said_in_one_line(done, "No AWS region")


def test_expired_credentials_are_one_line_and_exit_code_253(tmp_path, cloudformation):
    done = status_with_lookup_refused(tmp_path, cloudformation, "ExpiredToken",
                                      "The security token included in the request is expired", "--stack", "Nurture",
                                      "--region", "ap-northeast-1", **KEYS)
    assert done.returncode == exit_codes.AWS_SETUP
    assert said_in_one_line(done, "AWS refused the credentials (ExpiredToken)")


def test_a_fault_is_one_line_and_exit_code_255_and_debug_shows_its_traceback(tmp_path, cloudformation):
    endpoint, answer = cloudformation
    answer.status, answer.body = 200, b"<not-cloudformation"  # a body no AWS SDK can read
    arguments = ("sending", "status", "--stack", "Nurture", "--region", "ap-northeast-1")
    done = run(tmp_path, *arguments, AWS_ENDPOINT_URL_CLOUDFORMATION=endpoint, **KEYS)
    assert done.returncode == exit_codes.UNEXPECTED
    assert said_in_one_line(done, "--debug shows the traceback")
    debugged = run(tmp_path, "--debug", *arguments, AWS_ENDPOINT_URL_CLOUDFORMATION=endpoint, **KEYS)
    assert debugged.returncode == exit_codes.UNEXPECTED and "Traceback" in debugged.stderr
    assert "botocore" in debugged.stderr  # and every AWS call logged


def test_version_names_the_installed_package(tmp_path):
    done = run(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("nurture 0.")


@pytest.mark.parametrize(("typed", "offered"), [("nurture sen", {"sending"}), ("nurture segment co", {"count"}),
                                                ("nurture sending status --pro", {"--profile"})])
def test_the_shell_completes_commands_and_options(tmp_path, typed, offered):
    # What bash's completion function (register-python-argcomplete nurture) asks and reads.
    answer = tmp_path / "completions"
    done = run(tmp_path, _ARGCOMPLETE="1", _ARGCOMPLETE_SHELL="bash", COMP_LINE=typed, COMP_POINT=str(len(typed)),
               _ARGCOMPLETE_STDOUT_FILENAME=str(answer))
    assert done.returncode == 0
    assert {word.strip() for word in answer.read_text(encoding="utf-8").split("\013")} - {""} == offered
