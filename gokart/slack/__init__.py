"""Slack summary of a ``gokart.run`` execution: which tasks succeeded or failed, posted as a file."""

from gokart.slack.event_aggregator import EventAggregator
from gokart.slack.notifier import RunNotifier
from gokart.slack.slack_api import ChannelListNotLoadedError, ChannelNotFoundError, FileNotUploadedError, SlackAPI
from gokart.slack.slack_config import SlackConfig

__all__ = [
    'ChannelListNotLoadedError',
    'ChannelNotFoundError',
    'EventAggregator',
    'FileNotUploadedError',
    'RunNotifier',
    'SlackAPI',
    'SlackConfig',
]
