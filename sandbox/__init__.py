"""Running learner code: a separate process in its own session and process group, with limits,
killed as a group at the time limit and as soon as its main process exits."""
