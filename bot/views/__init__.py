"""Pure Block Kit builders: domain objects and content in, slack_sdk models out."""
