"""What ``gokart.run`` calls to send its Slack report: set up at start, send at exit."""

from __future__ import annotations

import logging
import os

import luigi

from gokart.slack.event_aggregator import EventAggregator
from gokart.slack.slack_api import SlackAPI
from gokart.slack.slack_config import SlackConfig

logger = logging.getLogger(__name__)

REPORT_TITLE = 'event.txt'
TREE_INFO_HINT = 'Please add SlackConfig.send_tree_info to include tree-info'


class RunNotifier:
    """Sends one report per ``gokart.run``: counts in the message, event list and tree in an attached file.

    Usage from ``gokart.run``::

        notifier = RunNotifier.from_config()
        if notifier is not None:
            notifier.start()
        ...  # run
        notifier.send(root_task, tree_info=make_tree_info(root_task) if notifier.send_tree_info else None)
    """

    def __init__(self, config: SlackConfig, token: str) -> None:
        self._config = config
        self._token = token
        self._aggregator = EventAggregator()
        self._api: SlackAPI | None = None

    @classmethod
    def from_config(cls) -> RunNotifier | None:
        """A notifier from ``[SlackConfig]``, or None when the token or the channel is empty (notification off)."""
        config = SlackConfig()
        token = os.environ.get(config.token_name, '')
        if not token or not config.channel:
            return None
        return cls(config, token)

    @property
    def send_tree_info(self) -> bool:
        """Whether the caller should compute the task tree for ``send``."""
        return bool(self._config.send_tree_info)

    @property
    def aggregator(self) -> EventAggregator:
        return self._aggregator

    @property
    def api(self) -> SlackAPI | None:
        """The Slack client once ``start()`` made it (None before, or without slack-sdk)."""
        return self._api

    def start(self) -> None:
        """Look up the channel (warning on failure) and start collecting task events."""
        try:
            config = self._config
            self._api = SlackAPI(token=self._token, channel=config.channel, to_user=config.to_user, base_url=config.api_url or None)
        except ImportError as e:
            logger.warning(f'Slack notification is off: slack-sdk is not installed (pip install "gokart[slack]"): {e}')
        self._aggregator.set_handlers()

    def send(self, root_task: luigi.Task | str, tree_info: str | None = None) -> None:
        """Post the report; failures are only logged."""
        if self._api is None:
            return
        name = root_task if isinstance(root_task, str) else type(root_task).__name__
        self._api.send_snippet(**report_snippet(name, self._aggregator, tree_info if self.send_tree_info else None))


def report_snippet(name: str, aggregator: EventAggregator, tree_info: str | None) -> dict[str, str]:
    """The report of a run of the task named ``name``: ``send_snippet``'s comment, title and content.

    Without ``tree_info`` the content says how to include it (``SlackConfig.send_tree_info``).
    """
    comment = f'Report of {name}' + os.linesep + aggregator.get_summary()
    tree = tree_info if tree_info is not None else TREE_INFO_HINT
    content = os.linesep.join(['===== Event List ====', aggregator.get_event_list(), os.linesep, '==== Tree Info ====', tree])
    return {'comment': comment, 'title': REPORT_TITLE, 'content': content}
