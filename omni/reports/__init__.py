"""The managers' reports: figures computed with aggregate SQL, the dashboard and its charts."""
