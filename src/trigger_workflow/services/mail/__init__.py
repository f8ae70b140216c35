"""Letters to applicants and the outbox that emails or prints them."""
