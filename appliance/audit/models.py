"""The audit log's tables.

``AuditEvent`` is the pending table: ``record()`` appends one row per event,
in the action's own transaction, with no global lock. The sequencer copies
each committed row into ``LogEntry`` under a gap-free sequence number, which
is also its leaf index in the Merkle tree. The database rejects UPDATE,
DELETE and TRUNCATE on both tables (triggers in migration 0005), and the
restricted role ``appliance_audit_writer`` holds only SELECT and INSERT.

Clear columns hold what auditors search by: time, actor id, action, object
and outcome. The actor's name, the client address and the details are in
``ciphertext`` (AES-256-GCM under the data key ``key_scope``/``key_version``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone


class Outcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


# The inserting transaction's 64-bit id. The sequencer takes a row only once
# every transaction with a lower id has ended (see sequencer.py).
CURRENT_TRANSACTION_ID = RawSQL("pg_current_xact_id()::text::bigint", [])


class AuditEvent(models.Model):
    """An event as written, before sequencing: who did what to which object,
    when, from where (request id here, client address encrypted), and how it
    ended. Rows are ordered by ``id``, assigned at insert."""

    id = models.BigAutoField(primary_key=True)
    txid = models.BigIntegerField(db_default=CURRENT_TRANSACTION_ID, editable=False)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    request_id = models.CharField(max_length=64, blank=True)
    key_scope = models.CharField(max_length=64)
    key_version = models.PositiveIntegerField()
    ciphertext = models.BinaryField()

    class Meta:
        db_table = "audit_event"
        ordering = ["id"]
        indexes = [models.Index(fields=["txid", "id"], name="audit_event_txid_id")]
        permissions = [
            ("view_audit_log", "Can read and verify the audit log"),
            (
                "reveal_audit_field",
                "Can reveal an encrypted audit field, stating a reason",
            ),
            ("manage_audit_access", "Can grant and revoke revealing audit fields"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.action} {self.outcome}"


class LogEntry(models.Model):
    """A sequenced event: leaf ``seq`` of the Merkle tree."""

    seq = models.BigIntegerField(primary_key=True)
    pending_id = models.BigIntegerField(unique=True)
    event_id = models.UUIDField()
    occurred_at = models.DateTimeField(db_index=True)
    sequenced_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    outcome = models.CharField(max_length=16)
    request_id = models.CharField(max_length=64, blank=True)
    key_scope = models.CharField(max_length=64)
    key_version = models.PositiveIntegerField()
    ciphertext = models.BinaryField()

    class Meta:
        db_table = "audit_log_entry"
        ordering = ["seq"]
        verbose_name_plural = "log entries"

    def __str__(self) -> str:
        return f"{self.seq} {self.action} {self.outcome}"


class DataKey(models.Model):
    """A data key that encrypts the events of one scope (a month, or a month
    and one actor), stored wrapped by the key-encryption key.

    ``uses`` counts encryptions reserved under this key, in blocks, across
    every process. A key whose count would pass the limit is retired, and the
    next version takes over. Destroying a key (crypto-shredding) clears
    ``wrapped``: its entries can no longer be decrypted, but their ciphertext
    stays in the tree, which still verifies.
    """

    scope = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    kek_id = models.CharField(max_length=128)
    wrapped = models.BinaryField(null=True)
    uses = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "audit_data_key"
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "version"], name="audit_data_key_scope_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} v{self.version}"


class SequencerState(models.Model):
    """The single row the sequencer owns: the log's id, the tree size, the
    frontier at that size, and the transaction id and id of the last pending
    row taken."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    log_id = models.UUIDField(default=uuid.uuid4)
    size = models.BigIntegerField(default=0)
    frontier = models.BinaryField(default=b"")
    last_txid = models.BigIntegerField(default=0)
    last_pending_id = models.BigIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "audit_sequencer_state"

    def __str__(self) -> str:
        return f"log {self.log_id} at size {self.size}"


class Checkpoint(models.Model):
    """A signed tree head, kept here as well as in the checkpoint sink. Only
    the copies in the sink are trusted; these serve the console and proofs."""

    size = models.BigIntegerField(unique=True)
    root = models.BinaryField()
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    note = models.TextField()
    signature = models.BinaryField()
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "audit_checkpoint"
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class VerificationRun(models.Model):
    """One run of the verifier: scheduled, from the command or the console."""

    class Mode(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    ok = models.BooleanField(default=False)
    from_size = models.BigIntegerField(default=0)
    checked_size = models.BigIntegerField(default=0)
    first_bad_index = models.BigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "audit_verification_run"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.mode} verification {'ok' if self.ok else 'failed'}"
