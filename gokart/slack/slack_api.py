"""A small client for the two Slack calls gokart needs: find a channel, post a text file to it."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gokart.core import settings

if TYPE_CHECKING:
    from slack_sdk import WebClient

logger = logging.getLogger(__name__)

API_URL_ENVIRONMENT_VARIABLE = settings.setting('slack_api_url').environment_variable
# conversations.list is paginated; stop after this many pages so a misbehaving server cannot loop us forever.
_MAX_CHANNEL_PAGES = 100


class ChannelListNotLoadedError(RuntimeError):
    """conversations.list answered with an error."""


class ChannelNotFoundError(RuntimeError):
    """No public, unarchived channel has the configured name."""


class FileNotUploadedError(RuntimeError):
    """The report file could not be uploaded."""


class SlackUnreachableError(RuntimeError):
    """The Slack API did not answer (connection refused, DNS, timeout): no channel could be looked up."""


class SlackAPI:
    """Posts snippets to one channel. Every failure is logged as a warning: a report must never fail a run.

    The channel id is looked up at construction, so a wrong token or channel shows up when the job
    starts rather than when it ends. When that lookup failed, sending looks it up once more and
    reports the lookup's own error (an unreachable API is not a missing channel). The warnings keep
    gokart 1.12's texts and count: a channel still missing when sending was already reported at
    start, once, as 1.12 reports it, so sending skips the upload quietly (a debug record).
    """

    def __init__(self, token: str, channel: str, to_user: str, base_url: str | None = None) -> None:
        self._client = _make_client(token, base_url)
        self._base_url = str(getattr(self._client, 'base_url', base_url or ''))
        self._configured_channel = channel  # as the user wrote it, for 1.12's messages ('#reports')
        self._channel = channel.lstrip('#')
        self._to_user = to_user
        self._channel_id: str | None = None
        self._missing_channel_reported = False
        try:
            self._channel_id = self._get_channel_id()
        except Exception as e:
            self._missing_channel_reported = isinstance(e, ChannelNotFoundError)
            logger.warning(f'The job will start without slack notification: {e}')

    @property
    def channel_id(self) -> str | None:
        """The id of the configured channel, or None when the lookup failed."""
        return self._channel_id

    def send_snippet(self, comment: str, title: str, content: str) -> None:
        """Upload ``content`` as a file named ``title``, with ``comment`` (and the user mention) as the message."""
        try:
            if self._channel_id is None:
                try:
                    self._channel_id = self._get_channel_id()
                except ChannelNotFoundError as e:
                    if not self._missing_channel_reported:
                        raise
                    logger.debug(f'Slack notification skipped: {e}')
                    return
            response = self._client.files_upload_v2(
                channel=self._channel_id,
                title=title,
                filename=title,
                content=content,
                initial_comment=self._mention() + comment,
            )
            if not response.get('ok', False):
                raise FileNotUploadedError(f'Error while uploading file. The error reason is "{response.get("error")}".')
        except Exception as e:
            logger.warning(f'Failed to send slack notification: {e}')

    def _mention(self) -> str:
        if not self._to_user:
            return ''
        return f'<@{self._to_user.lstrip("@")}> '

    def _get_channel_id(self) -> str:
        try:
            # gokart 1.12's call, which users' fake clients are written for: the options go in params=.
            response = self._client.conversations_list(params={'exclude_archived': True, 'limit': 100})
            for page in itertools.islice(_pages(response), _MAX_CHANNEL_PAGES):
                if page.get('ok', True) is False:
                    raise ChannelListNotLoadedError(f'Error while loading channels. The error reason is "{page.get("error")}".')
                for channel in page.get('channels') or []:
                    if channel.get('name') == self._channel:
                        return str(channel['id'])
        except OSError as e:  # urllib's URLError and socket errors: the API itself did not answer
            raise SlackUnreachableError(
                f'the Slack API at {self._base_url} could not be reached ({e}); check the network, a proxy, or {API_URL_ENVIRONMENT_VARIABLE}.'
            ) from e
        raise ChannelNotFoundError(f'Channel {self._configured_channel} is not found in public channels.')


def _pages(response: Any) -> Iterable[Any]:
    """The pages of a conversations.list answer: slack-sdk's response iterates them (fetching the next
    cursor's page as it goes), as does a fake's list of pages; a plain dict is one page."""
    if isinstance(response, Mapping):
        return [response]
    return response  # type: ignore[no-any-return]


def _make_client(token: str, base_url: str | None) -> WebClient:
    url = base_url or settings.value('slack_api_url') or None
    kwargs: dict[str, Any] = {'token': token}
    if url:
        kwargs['base_url'] = url if url.endswith('/') else url + '/'
    return _slack_sdk().WebClient(**kwargs)  # type: ignore[no-any-return]


def _slack_sdk() -> Any:
    """slack_sdk, or what a test patched in as ``gokart.slack.slack_api.slack_sdk`` (gokart 1.12's name for it)."""
    patched = globals().get('slack_sdk')
    return patched if patched is not None else __getattr__('slack_sdk')


def __getattr__(name: str) -> Any:
    # slack-sdk is the optional extra gokart[slack]: imported on first use, not with gokart. Users' tests
    # patch 'gokart.slack.slack_api.slack_sdk' or '...slack_sdk.WebClient', which resolve through here.
    if name == 'slack_sdk':
        import slack_sdk

        return slack_sdk
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
