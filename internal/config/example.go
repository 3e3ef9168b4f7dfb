package config

// Example is a commented fivesafes.yml that Load accepts (given the key file
// it names). The README and `fivesafes serve --help` show it.
const Example = `# fivesafes.yml: configuration of the fivesafes GitHub App.
# Unknown keys are errors. Relative paths are resolved against the directory
# of this file. Secrets may come from the environment instead:
#   FIVESAFES_WEBHOOK_SECRET        replaces github.webhook_secret(s)
#   FIVESAFES_GITHUB_PRIVATE_KEY    the key's PEM text; replaces github.private_key_file

# Address the HTTP server listens on: webhooks, the agent API, public pages.
listen: ":8080"
# Where GitHub and people reach the bot; check runs link to pages under it.
public_url: https://fivesafes.example.org
# SQLite database file.
database: fivesafes.db
# debug, info, warn or error.
log_level: info
# Webhook deliveries handled at once (1 to 64).
workers: 4

github:
  # REST API base URL. GitHub Enterprise Server: https://HOST/api/v3/
  api_url: https://api.github.com/
  # App ID and private key, both from the GitHub App's settings page.
  app_id: 123456
  private_key_file: fivesafes.private-key.pem
  # The webhook secret set on that page (at least 16 characters:
  # openssl rand -hex 32). To rotate, list the new one and the old one:
  #   webhook_secrets: [NEW, OLD]
  webhook_secret: replace-with-a-long-random-string

policy:
  # Least permission on the repository needed to /run:
  # read, triage, write, maintain or admin.
  run_permission: write
  # Adding this label to a pull request means "/run all".
  trigger_label: "fivesafes:run-all"
  # Further conditions before a run is relayed to a backend:
  #   approved   the pull request is approved on its head commit
  #   mergeable  the pull request can be merged
  require: []

runs:
  # Backend for /run without --backend (default: the first in backends).
  default_backend: tpp
  # Wall-clock limit of one job; it then fails with timed_out.
  job_timeout: 24h
  # An agent that does not report on a task for this long loses it; the task
  # is handed out again, up to max_attempts claims, then fails internal_error.
  lease: 2m
  max_attempts: 3
  # Least time between two updates of one run's check run (the last one,
  # when the run ends, is never held back).
  status_interval: 5s

release:
  # Distinct output checkers who must approve a release; the requester's
  # own approval never counts.
  approvals_required: 2
  checkers:
    users: [ana, ben]
    teams: [example-org/output-checkers]

# Secure zones whose agents run jobs. token_sha256 is the SHA-256 of the
# agent's bearer token, never the token itself:
#   printf %s "$TOKEN" | sha256sum
backends:
  - name: tpp
    token_sha256: 2892f795b33dfd19dff2a77d43005af5440ddf08c1f72ee1f2a7badbf2034d84
`
