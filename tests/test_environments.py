"""Environments (workspace objects) and the names of an environment's secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tinyserver import json_reply

import runcrate


def test_environments_lifecycle(api: Any) -> None:
    (main,) = api("list_environments")
    assert isinstance(main, runcrate.Environment) and main.name == "main" and main.is_default is True
    staging = api("create_environment", name="staging")
    assert staging.name == "staging" and staging.is_default is False and staging.created_at is not None
    assert api("get_environment", staging.id) == staging
    renamed = api("update_environment", staging.id, name="preview")
    assert renamed.name == "preview" and api("get_environment", id=staging.id).name == "preview"
    made_default = api("update_environment", staging.id, is_default=True)
    assert made_default.is_default and not api("get_environment", main.id).is_default
    api("update_environment", main.id, is_default=True)
    assert api("delete_environment", staging.id) is None
    assert [e.name for e in api("list_environments")] == ["main"]


def test_environment_failures(api: Any) -> None:
    (main,) = api("list_environments")
    with pytest.raises(runcrate.ConflictError):
        api("create_environment", name="main")
    with pytest.raises(runcrate.ConflictError):
        api("delete_environment", main.id)
    with pytest.raises(runcrate.NotFoundError):
        api("get_environment", "env_missing")
    with pytest.raises(ValueError, match="needs name or is_default"):
        api("update_environment", main.id)
    with pytest.raises(ValueError):
        api("create_environment", name=" ")
    with pytest.raises(runcrate.UnprocessableEntityError):
        api("update_environment", main.id, is_default=False)


def test_secrets_are_names_sorted_and_per_environment(connect: Any, emu: Any) -> None:
    emu.set_secret("WANDB_KEY", "s3cr3t-value", sensitive=True)
    emu.set_secret("HF_TOKEN", "another-value")
    emu.set_secret("ONLY_STAGING", "x", environment="staging")
    secrets = connect(emu.url)("list_secrets")
    assert [s.key for s in secrets] == ["EMULATOR_TOKEN", "HF_TOKEN", "WANDB_KEY"] and secrets[2].sensitive is True
    staging = connect(emu.url, environment="staging")("list_secrets")
    assert [s.key for s in staging] == ["EMULATOR_TOKEN", "ONLY_STAGING"]
    assert "s3cr3t" not in repr(secrets) and "s3cr3t" not in json.dumps([s.to_dict() for s in secrets], default=str)


def test_a_secret_value_sent_by_mistake_is_never_kept(connect: Any, serve: Any) -> None:
    leaked = {"data": [{"key": "DB_PASSWORD", "sensitive": True, "value": "hunter2", "updated_at": None}]}
    server = serve(lambda request, sock: json_reply(sock, 200, json.dumps(leaked)))
    (secret,) = connect(server.url)("list_secrets")
    assert secret.key == "DB_PASSWORD" and "hunter2" not in repr(secret) and "hunter2" not in str(vars(secret))
    with pytest.raises(AttributeError):
        secret.value  # noqa: B018 - the read is the test


def test_the_client_namespaces(emu: Any) -> None:
    emu.set_secret("A", "1")
    with emu.make_client() as client:
        made = client.environments.create(name="ci")
        assert client.environments.get(made.id).name == "ci"
        assert [s.key for s in client.secrets.list()] == ["A", "EMULATOR_TOKEN"]
        client.environments.delete(made.id)


def test_crates_keep_every_field_and_live_in_their_environment(connect: Any, emu: Any) -> None:
    main, staging = connect(emu.url), connect(emu.url, environment="staging")
    crate = main("create_crate", name="nightly", image="pytorch:2.4", gpu_type="A100", timeout=5)
    assert isinstance(crate, runcrate.Crate) and crate.name == "nightly" and crate.image == "pytorch:2.4"
    assert crate.to_dict()["gpu_type"] == "A100" and "timeout" not in crate.to_dict()
    assert [c.id for c in main("list_crates", gpu_type="A100")] == [crate.id] and main(
        "list_crates", gpu_type="H100"
    ) == []
    assert staging("list_crates") == []
    assert main("get_crate", crate.id).extra["image"] == "pytorch:2.4"
    main("delete_crate", crate.id)
    with pytest.raises(runcrate.NotFoundError):
        main("get_crate", crate.id)
