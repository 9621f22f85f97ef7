"""The sandbox as a test tool: throwaway accounts, searching and waiting for messages, one-time codes,
reset. Served under /sandbox/ only when the deployment's profile is sandbox."""
