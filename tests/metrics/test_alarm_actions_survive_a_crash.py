"""An alarm's state change and its actions: a process that dies after recording the
change but before sending the actions loses nothing; the next platform sends them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from groundfog import Platform
from groundfog.core.config import Config

DIE_BEFORE_SENDING = """
import os, sys
from groundfog import Platform
from groundfog.core.config import Config
from groundfog.metrics.alarms import AlarmOperations

AlarmOperations._run_actions = lambda *args, **kwargs: os._exit(9)  # the process dies right here
platform = Platform(Config(home=sys.argv[1]))
platform.metrics.set_alarm_state(alarm_name="slow", state_value="ALARM", state_reason="latency over 4 s")
"""


def test_actions_recorded_but_not_sent_are_sent_after_a_restart(tmp_path):
    home, sink = tmp_path / "home", tmp_path / "ops.jsonl"
    with Platform(Config(home=home)) as p:
        topic = p.topics.create_topic(name="ops")
        p.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink), attributes={"RawMessageDelivery": "true"})
        p.metrics.put_metric_alarm(alarm_name="slow", metric_name="Latency", namespace="App", statistic="Maximum", period=60,
                                   evaluation_periods=1, threshold=4.0, comparison_operator="GreaterThanThreshold",
                                   alarm_actions=[topic.topic_arn])  # fmt: skip
    died = subprocess.run([sys.executable, "-c", DIE_BEFORE_SENDING, str(home)], env=os.environ.copy(), capture_output=True)
    assert died.returncode == 9, died.stderr.decode()

    with Platform(Config(home=home)) as p:
        assert p.metrics.describe_alarms(alarm_names=["slow"])[0].state_value == "ALARM"
        assert not sink.exists()  # recorded, not sent
        p.start()
        deadline = time.time() + 20
        while not (sink.exists() and sink.read_text().strip()):
            assert time.time() < deadline, "the recorded action was never sent"
            time.sleep(0.1)
        message = json.loads(sink.read_text().splitlines()[0])
        assert message["AlarmName"] == "slow" and message["NewStateValue"] == "ALARM"
        actions = p.metrics.describe_alarm_history(alarm_name="slow", history_item_type="Action")
        assert len(actions) == 1 and "Successfully executed" in actions[0].history_summary
        assert p.metrics.deliver_pending_actions() == 0  # sent once, then cleared
