"""The ``[SlackConfig]`` section of luigi's configuration."""

import luigi


class SlackConfig(luigi.Config):
    """Where and how ``gokart.run`` reports to Slack; notification is on only when token and channel are set."""

    token_name = luigi.Parameter(default='SLACK_TOKEN', description='Name of the environment variable that holds the Slack token.')
    channel = luigi.Parameter(default='', description='Channel name, without "#".')
    to_user = luigi.Parameter(default='', description='User to mention in the report; "@" is added when missing.')
    send_tree_info = luigi.BoolParameter(default=False, description='Attach the task tree to the report.')
    api_url = luigi.Parameter(
        default='',
        description='Base URL of the Slack Web API, e.g. "https://slack.com/api/". Empty: $GOKART_SLACK_API_URL, else Slack itself.',
    )
