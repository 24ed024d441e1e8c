"""Messages to customers: an outbox written in the caller's transaction, delivered by Celery.

``customers.messaging.services`` chooses the channel and writes the message;
``customers.messaging.backends`` holds the provider interface and the default backends.
"""
