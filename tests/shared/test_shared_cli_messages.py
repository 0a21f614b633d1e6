"""`lobu`'s messages: clear words and exit codes instead of tracebacks, a help that helps."""

from __future__ import annotations

import pytest

from lobu.shared.cli import EXIT_UNAVAILABLE, main

pytestmark = pytest.mark.unit

NOBODY = "127.0.0.1:1"  # a port where no Kafka listens


@pytest.mark.parametrize("command", ["show", "replay"])
def test_dlq_with_kafka_down_says_so_and_exits_3(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["dlq", command, "directory.alliance.dlq", "--bootstrap", NOBODY])

    out, err = capsys.readouterr()
    assert status == EXIT_UNAVAILABLE == 3
    assert f"Kafka at {NOBODY} is not reachable" in err
    assert "make kafka-start" in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("hours", ["-1", "0", "nan", "inf", "zwölf", "9000"])
def test_token_refuses_a_lifetime_that_is_not_positive_and_finite(
    hours: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["token", "--role", "admin", "--hours", hours])

    out, err = capsys.readouterr()
    assert stopped.value.code == 2
    assert "--hours" in err
    assert out == ""  # no token at all, not an expired one


def test_token_prints_only_the_token_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "admin", "--hours", "0.5"]) == 0

    out, err = capsys.readouterr()
    assert out.count(".") == 2  # header.payload.signature, one line
    assert len(out.splitlines()) == 1
    assert "development secret" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["examples:", "lobu dlq show directory.alliance.dlq", "exit status"]),
        (["token", "--help"], ["nothing else", "LOBU_JWT_SECRET", "more than 0"]),
        (["dlq", "show", "--help"], ["Kafka not reachable", "KAFKA_BOOTSTRAP_SERVERS"]),
    ],
)
def test_help_says_what_a_command_does_with_examples(
    argv: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(argv)

    out = " ".join(capsys.readouterr().out.split())
    for text in expected:
        assert text in out
