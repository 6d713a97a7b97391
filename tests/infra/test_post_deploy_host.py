"""The post-deploy provider in Pulumi's own dynamic-provider host, driven over gRPC.

The properties are the ones the program registers for its dynamic resource (recorded
under mocks, byte for byte). The host is started as the engine starts it: from the folder
of Pulumi.yaml, as `<virtualenv>/bin/python -u -m pulumi.dynamic ENGINE_ADDRESS`, with the
environment the launcher `pulumi-resource-pulumi-python` (pulumi/pulumi,
sdk/python/dist) sets from Pulumi.yaml's `virtualenv`/`toolchain` options. ENGINE_ADDRESS
is a loopback Engine service: this SDK's host never calls it, but it is served so a host
that logs through the engine still finds it. BigQuery is the fake on loopback, reached
through BIGQUERY_EMULATOR_HOST. As the engine does, Configure comes first, and since the
host does not accept secrets, properties reach it with their secrets unwrapped.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from tests.support.fake_bigquery import FakeBigQueryServer
from tests.support.paths import REPO
from tests.support.pulumi_harness import DYNAMIC, deploy_main, write_model_dir

PROJECT = "host-test-project"
STACK = "dev"
PROVIDER_KEY = "__provider"
STARTUP_S = 30.0


def plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    """The properties as the engine hands them to a provider that does not accept secrets."""
    props, _had_secrets = rpc.deserialize_properties_unwrap_secrets(struct)
    return dict(props)


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct))


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    model_dir = write_model_dir(tmp_path_factory.mktemp("model"))
    deployment = deploy_main(
        {"gcp:project": PROJECT, "resnet-inference:modelDir": str(model_dir)}, stack=STACK
    )
    step = deployment.one(DYNAMIC)
    assert step.wire_inputs is not None
    return plain(step.wire_inputs)


@pytest.fixture(scope="module")
def bigquery() -> Iterator[FakeBigQueryServer]:
    with FakeBigQueryServer() as server:
        yield server


@pytest.fixture(scope="module")
def engine_address() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    engine_pb2_grpc.add_EngineServicer_to_server(engine_pb2_grpc.EngineServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def launcher_env(project_dir: Path, bigquery_endpoint: str) -> tuple[Path, dict[str, str]]:
    """The interpreter and environment `pulumi-resource-pulumi-python` runs the host with."""
    options = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["runtime"]["options"]
    virtualenv = project_dir / options["virtualenv"]
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONHOME", "PYTHONPATH")
    }
    env.update(
        PULUMI_RUNTIME_VIRTUALENV=str(virtualenv),
        PULUMI_RUNTIME_TOOLCHAIN=str(options["toolchain"]),
        PATH=f"{virtualenv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        BIGQUERY_EMULATOR_HOST=bigquery_endpoint,
    )
    return virtualenv / "bin" / "python", env


@dataclass
class Host:
    stub: provider_pb2_grpc.ResourceProviderStub
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def host(
    engine_address: str, bigquery: FakeBigQueryServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Host]:
    python, env = launcher_env(REPO, bigquery.endpoint)
    log = tmp_path_factory.mktemp("host") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(python), "-u", "-m", "pulumi.dynamic", engine_address],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().decode().strip()
        assert first_line.isdigit(), f"the host printed no port: {log.read_text()[-2000:]}"
        port = int(first_line)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=STARTUP_S)
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        configured = stub.Configure(provider_pb2.ConfigureRequest(args=struct_pb2.Struct()))
        assert configured.acceptSecrets is False
        yield Host(stub, process)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


URN = f"urn:pulumi:{STACK}::resnet-inference::pulumi-python:dynamic:Resource::post-deploy"


@pytest.fixture(scope="module")
def created(host: Host, registered: dict[str, Any]) -> provider_pb2.CreateResponse:
    return host.stub.Create(
        provider_pb2.CreateRequest(urn=URN, properties=to_struct(registered), timeout=60)
    )


def test_check_accepts_the_registered_properties_unchanged(
    host: Host, registered: dict[str, Any]
) -> None:
    response = host.stub.Check(
        provider_pb2.CheckRequest(urn=URN, olds=struct_pb2.Struct(), news=to_struct(registered))
    )
    assert list(response.failures) == []
    assert from_struct(response.inputs) == registered


def test_create_runs_the_three_templates_on_bigquery_and_returns_the_results(
    created: provider_pb2.CreateResponse, registered: dict[str, Any], bigquery: FakeBigQueryServer
) -> None:
    assert created.id == f"{STACK}-post-deploy"
    outs = from_struct(created.properties)
    assert outs[PROVIDER_KEY] == registered[PROVIDER_KEY]
    assert outs["predictions_table_id"] == f"{PROJECT}.resnet_inference_test.predictions"
    assert outs["labels_table_id"] == f"{PROJECT}.resnet_inference_test.imagenet_labels"
    assert len(outs["fingerprint"]) == 64
    assert isinstance(outs["predictions_rows"], (int, float))
    templates = [job.labels["template"] for job in bigquery.fake.real_jobs()]
    assert list(dict.fromkeys(templates)) == ["labels", "create_model", "predict"]
    assert all(job.location == "US" and job.project == PROJECT for job in bigquery.fake.real_jobs())


def test_diff_of_the_same_properties_is_no_change(
    host: Host, created: provider_pb2.CreateResponse, registered: dict[str, Any]
) -> None:
    response = host.stub.Diff(
        provider_pb2.DiffRequest(
            id=created.id, urn=URN, olds=created.properties, news=to_struct(registered)
        )
    )
    assert response.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert list(response.replaces) == []


def changed_model(registered: dict[str, Any], digest: str = "f" * 64) -> dict[str, Any]:
    news = dict(registered)
    news["model_files"] = {**registered["model_files"], "saved_model.pb": digest}
    return news


def test_diff_after_a_model_file_changed_is_an_update_in_place(
    host: Host, created: provider_pb2.CreateResponse, registered: dict[str, Any]
) -> None:
    response = host.stub.Diff(
        provider_pb2.DiffRequest(
            id=created.id,
            urn=URN,
            olds=created.properties,
            news=to_struct(changed_model(registered)),
        )
    )
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == []
    assert response.deleteBeforeReplace is False


def test_update_runs_the_step_again_with_a_new_fingerprint(
    host: Host,
    created: provider_pb2.CreateResponse,
    registered: dict[str, Any],
    bigquery: FakeBigQueryServer,
) -> None:
    jobs_before = len(bigquery.fake.real_jobs())
    news = changed_model(registered)
    response = host.stub.Update(
        provider_pb2.UpdateRequest(
            id=created.id, urn=URN, olds=created.properties, news=to_struct(news), timeout=60
        )
    )
    outs = from_struct(response.properties)
    assert outs["model_files"]["saved_model.pb"] == "f" * 64
    assert outs["fingerprint"] != from_struct(created.properties)["fingerprint"]
    assert outs[PROVIDER_KEY] == registered[PROVIDER_KEY]
    assert len(bigquery.fake.real_jobs()) > jobs_before


def test_delete_drops_what_the_step_created(
    host: Host, created: provider_pb2.CreateResponse, bigquery: FakeBigQueryServer
) -> None:
    jobs_before = len(bigquery.fake.real_jobs())
    host.stub.Delete(
        provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=created.properties)
    )
    dropped = [job.query for job in bigquery.fake.real_jobs()[jobs_before:]]
    assert dropped
    assert all("DROP" in query.upper() for query in dropped)
    assert any(f"{PROJECT}.resnet_inference_test.predictions" in query for query in dropped)


def test_a_failing_step_surfaces_bigquery_error_through_the_host(
    host: Host, registered: dict[str, Any], bigquery: FakeBigQueryServer
) -> None:
    bigquery.fake.outcome(error=("invalidQuery", "Syntax error: Unexpected keyword FROM at [1:8]"))
    with pytest.raises(grpc.RpcError) as raised:
        host.stub.Create(
            provider_pb2.CreateRequest(
                urn=URN, properties=to_struct(changed_model(registered, "e" * 64))
            )
        )
    assert raised.value.code() == grpc.StatusCode.UNKNOWN
    assert "Syntax error: Unexpected keyword FROM at [1:8]" in str(raised.value.details())
