"""The sequencer: gap-free positions, never passing over a transaction that
commits late, checkpoints in the sink, and refusing a log that shrank."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings

from appliance.audit import config
from appliance.audit.merkle import Frontier
from appliance.audit.models import AuditEvent, Checkpoint, LogEntry, SequencerState
from appliance.audit.sequencer import Sequencer, SequencerHalted, sequence_now
from appliance.audit.services import record
from appliance.audit.signing import verify


def record_many(count: int, prefix: str = "job") -> None:
    for i in range(count):
        record("job.submitted", object_type="job", object_id=f"{prefix}-{i}")


@pytest.mark.django_db
def test_sequence_assigns_gap_free_positions_in_insert_order():
    record_many(30)
    size = sequence_now()

    entries = list(LogEntry.objects.order_by("seq"))
    assert size == len(entries) == 30
    assert [e.seq for e in entries] == list(range(30))
    assert [e.object_id for e in entries] == [f"job-{i}" for i in range(30)]
    pending_ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert [e.pending_id for e in entries] == pending_ids


@pytest.mark.django_db
def test_sequencing_twice_takes_each_event_once():
    record_many(5)
    sequence_now()
    record_many(3, prefix="later")
    assert sequence_now() == 8
    assert LogEntry.objects.count() == 8


@pytest.mark.django_db
def test_state_row_holds_size_and_frontier_root():
    record_many(13)
    sequence_now()
    state = SequencerState.objects.get(id=1)
    frontier = Frontier.from_bytes(state.size, bytes(state.frontier))
    assert state.size == 13
    assert frontier.root() == bytes(Checkpoint.objects.get(size=13).root)


@pytest.mark.django_db(transaction=True)
def test_sequencer_never_passes_over_a_transaction_that_commits_late():
    """An event whose transaction took its id first but commits last must
    still be sequenced, and before the events that committed earlier."""
    inserted = threading.Event()
    release = threading.Event()

    def slow_action() -> None:
        try:
            with transaction.atomic():
                record("job.submitted", object_type="job", object_id="slow")
                inserted.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=slow_action)
    worker.start()
    assert inserted.wait(timeout=30)
    record("job.submitted", object_type="job", object_id="fast", durable=True)

    sequence_now(include_own=False)
    assert not LogEntry.objects.filter(object_id__in=["slow", "fast"]).exists()

    release.set()
    worker.join(timeout=30)
    sequence_now(include_own=False)
    order = list(
        LogEntry.objects.filter(object_id__in=["slow", "fast"])
        .order_by("seq")
        .values_list("object_id", flat=True)
    )
    assert order == ["slow", "fast"]


@pytest.mark.django_db
def test_checkpoints_reach_the_sink_signed(audit_sink):
    with override_settings(AUDIT_CHECKPOINT_ENTRIES=10):
        for _ in range(3):
            record_many(12)
            sequence_now(checkpoint=False)
    log_id = SequencerState.objects.get(id=1).log_id
    sizes = config.sink().sizes(log_id)
    assert sizes == [12, 24, 36]
    keys = config.trusted_keys()
    for checkpoint in config.sink().read_all(log_id):
        assert verify(
            checkpoint.note_text, checkpoint.signature, keys[checkpoint.note.key_id]
        )
    assert set(
        Checkpoint.objects.exclude(exported_at=None).values_list("size", flat=True)
    ) == {12, 24, 36}


@pytest.mark.django_db
def test_sequencer_halts_when_the_log_is_shorter_than_the_sink():
    record_many(10)
    sequence_now()
    with connection.cursor() as cursor:
        # An attacker with the database's superuser switches the triggers off.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_log_entry WHERE seq >= 7")
        cursor.execute("UPDATE audit_sequencer_state SET size = 7")
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(SequencerHalted, match="truncated or rolled back"):
        Sequencer().resync()


@pytest.mark.django_db
def test_sequencer_halts_when_an_unexported_checkpoint_disagrees():
    record_many(10)
    sequence_now()
    record_many(5, prefix="more")
    sequencer = Sequencer()
    sequencer.resync()
    sequencer.sequence_batch(include_own=True)
    sequencer.checkpoint()
    # The sink write never happened; meanwhile an entry it covers is changed.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE audit_log_entry SET action = 'job.forged' WHERE seq = 12"
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(SequencerHalted, match="does not match"):
        Sequencer().resync()


@pytest.mark.django_db
def test_sequencer_exports_committed_checkpoints_after_a_crash(audit_sink):
    record_many(6)
    sequence_now()
    record_many(4, prefix="more")
    sequencer = Sequencer()
    sequencer.resync()
    sequencer.sequence_batch(include_own=True)
    sequencer.checkpoint()
    # The process dies here, before writing to the sink.
    log_id = SequencerState.objects.get(id=1).log_id
    assert config.sink().sizes(log_id) == [6]

    restarted = Sequencer()
    restarted.resync()
    restarted.export()
    assert config.sink().sizes(log_id) == [6, 10]


@pytest.mark.django_db
def test_small_batches_take_every_event_once():
    with override_settings(AUDIT_SEQUENCER_BATCH=3):
        record_many(11)
        size = sequence_now()
    assert size == 11
    assert list(LogEntry.objects.values_list("object_id", flat=True)) == [
        f"job-{i}" for i in range(11)
    ]


@pytest.mark.django_db
def test_sequencer_halts_when_transaction_ids_go_backwards():
    """A logical restore into a new cluster restarts transaction ids lower;
    events written after it must not be silently stranded."""
    from appliance.audit.health import chain_status

    record_many(3)
    sequence_now()
    # What a restored state row looks like to the new cluster: its last
    # transaction id lies far in this cluster's future.
    SequencerState.objects.filter(id=1).update(last_txid=2**40)
    record_many(2, prefix="after-restore")

    with pytest.raises(SequencerHalted, match="transaction ids went backwards"):
        sequence_now()
    assert chain_status().stranded
    assert any("logical dump" in problem for problem in chain_status().problems)
