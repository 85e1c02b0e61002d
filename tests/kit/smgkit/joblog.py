"""Figures read back from a training job's log, in the line formats SageMaker's
built-ins print and smalgo copies:

    #quality_metric: host=algo-1, train msd <loss>=1.2345
    #throughput_metric: host=algo-1, train throughput=123.4 records/second
"""
import re


def quality_metric(log, what, host="algo-1"):
    """The value of `#quality_metric: host=HOST, WHAT <loss>=V` (first such line),
    or None when the log has none."""
    tag = "#quality_metric: host=%s, %s <loss>=" % (host, what)
    for line in log.splitlines():
        if tag in line:
            return float(line.split(tag)[1])
    return None


def throughput(log, channel="train"):
    """Records per second from the first `CHANNEL throughput=V records/second`."""
    m = re.search(r"%s throughput=([0-9.eE+-]+) records/second" % channel, log)
    return float(m.group(1)) if m else None
