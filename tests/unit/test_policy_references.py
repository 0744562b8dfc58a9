"""The model-reference resolver: per engine, defaults, `=` forms, env, local paths, odd input."""

from __future__ import annotations

from typing import Any

import pytest

from aigov.api.engines import EngineTable, builtin_engines
from aigov.policy.references import Certainty, Resolution, Target, resolve
from aigov.policy.workload import parse_workload

C0 = "spec.template.spec.containers[0]"
REV = "0123456789abcdef0123456789abcdef01234567"
PINNED = "registry.example.com/risk/server@sha256:" + "a" * 64
"""An image of no known engine, pinned by digest."""


def deployment(*containers: dict[str, Any], **pod: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "namespace": "ai", "labels": {"aigov.io/model": "m"}},
        "spec": {
            "template": {
                "metadata": {"labels": {"aigov.io/model": "m"}},
                "spec": {"containers": list(containers), **pod},
            }
        },
    }


def vllm(*args: str, **fields: Any) -> dict[str, Any]:
    return {"name": "vllm", "image": "vllm/vllm-openai:v0.10.0", "args": list(args), **fields}


def run(body: dict[str, Any], table: EngineTable | None = None) -> Resolution:
    return resolve(parse_workload(body), table)


def refs(body: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    """(uri, path, revision, source) of each reference; fails if anything is unresolved."""
    resolution = run(body)
    assert resolution.unresolved == ()
    return [(r.uri, r.path, r.revision, r.source) for r in resolution.references]


def unresolved(body: dict[str, Any]) -> list[str]:
    return [u.path for u in run(body).unresolved]


# vLLM -------------------------------------------------------------------------------------


def test_vllm_model_flag_and_revision() -> None:
    body = deployment(vllm("--model", "Org/Name", "--revision", REV))
    assert refs(body) == [("hf://org/name", f"{C0}.args[1]", REV, "vLLM --model")]
    (ref,) = run(body).references
    assert ref.pinned
    assert ref.certainty is Certainty.DECLARED
    assert ref.revision_path == f"{C0}.args[3]"


def test_vllm_equals_forms_and_underscores() -> None:
    body = deployment(vllm("--model=org/a", f"--revision={REV}", "--max_model_len=4096"))
    assert refs(body) == [("hf://org/a", f"{C0}.args[0]", REV, "vLLM --model")]


def test_vllm_positional_serve_argument_beats_model_flag() -> None:
    body = deployment(
        {
            "name": "v",
            "image": PINNED,
            "command": ["vllm", "serve", "org/pos"],
            "args": ["--model", "org/flag"],
        }
    )
    assert refs(body) == [("hf://org/pos", f"{C0}.command[2]", None, "vLLM positional argument")]


def test_vllm_positional_after_a_known_boolean_flag() -> None:
    body = deployment(vllm(command=["vllm", "serve", "--trust-remote-code", "org/x"]))
    assert [r[0] for r in refs(body)] == ["hf://org/x"]


def test_vllm_image_entrypoint_takes_a_positional_model() -> None:
    """Newer vllm/vllm-openai images have ENTRYPOINT ["vllm", "serve"]."""
    assert [r[0] for r in refs(deployment(vllm("org/first", "--dtype", "auto")))] == [
        "hf://org/first"
    ]


def test_vllm_python_module_with_extra_weights() -> None:
    spec = '{"model": "org/draft", "revision": "' + REV + '", "num_speculative_tokens": 5}'
    body = deployment(
        {
            "name": "v",
            "image": "python:3.12",
            "command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
            "args": [
                "--model", "org/a",
                "--tokenizer", "org/tok",
                "--lora-modules", "sql=org/lora1", '{"name": "b", "path": "org/lora2"}',
                "--speculative-config", spec,
            ],
        }
    )  # fmt: skip
    resolution = run(body)
    assert resolution.unresolved == ()
    assert [(r.role, r.uri, r.revision) for r in resolution.references] == [
        ("model", "hf://org/a", None),
        ("tokenizer", "hf://org/tok", None),
        ("LoRA adapter", "hf://org/lora1", None),
        ("LoRA adapter", "hf://org/lora2", None),
        ("draft model", "hf://org/draft", REV),
    ]


def test_vllm_default_model_when_nothing_is_named() -> None:
    (ref,) = run(deployment(vllm())).references
    assert (ref.uri, ref.value, ref.path) == (
        "hf://qwen/qwen3-0.6b",
        "Qwen/Qwen3-0.6B",
        f"{C0}.args",
    )
    assert ref.certainty is Certainty.INFERRED
    assert not ref.pinned


def test_vllm_last_model_flag_wins_as_in_argparse() -> None:
    assert [r[0] for r in refs(deployment(vllm("--model", "org/a", "--model", "org/b")))] == [
        "hf://org/b"
    ]


def test_vllm_abbreviated_flag_is_read() -> None:
    body = deployment(vllm(command=["python", "-m", "sglang.launch_server", "--model-p", "org/x"]))
    assert [r[0] for r in refs(body)] == ["hf://org/x"]


def test_vllm_ambiguous_bare_word_after_unknown_flag_is_unresolved() -> None:
    body = deployment(vllm(command=["vllm", "serve", "--new-flag", "org/x"]))
    assert f"{C0}.command[3]" in unresolved(body)


def test_vllm_config_file_is_unresolved() -> None:
    assert unresolved(deployment(vllm("--config", "/etc/vllm.yaml"))) == [f"{C0}.args[0]"]


def test_vllm_model_flag_without_value_is_unresolved() -> None:
    assert f"{C0}.args[0]" in unresolved(deployment(vllm("--model")))


def test_bad_speculative_config_is_unresolved() -> None:
    assert unresolved(deployment(vllm("--model", "org/a", "--speculative-config", "{oops"))) == [
        f"{C0}.args[3]"
    ]


# Variables, scripts, envFrom ----------------------------------------------------------------


def test_k8s_variable_expansion_from_literal_env() -> None:
    body = deployment(vllm("--model", "$(M)", env=[{"name": "M", "value": "org/env"}]))
    assert [r[0] for r in refs(body)] == ["hf://org/env"]


def test_variable_from_a_secret_is_unresolved() -> None:
    env = [{"name": "M", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]
    assert unresolved(deployment(vllm("--model", "$(M)", env=env))) == [f"{C0}.args[1]"]


def test_shell_script_is_read_word_by_word() -> None:
    script = "pip install x && exec vllm serve $MODEL --revision ${REV} --dtype auto"
    env = [{"name": "MODEL", "value": "org/sh"}, {"name": "REV", "value": REV}]
    body = deployment(
        {"name": "s", "image": PINNED, "command": ["/bin/sh", "-c", script], "env": env}
    )
    assert refs(body) == [("hf://org/sh", f"{C0}.command[2]", REV, "vLLM positional argument")]


def test_unreadable_shell_script_is_unresolved() -> None:
    body = deployment({"name": "s", "image": PINNED, "command": ["bash", "-c", "vllm serve 'oops"]})
    assert unresolved(body) == [f"{C0}.command[2]"]


def test_engine_image_with_a_foreign_command_is_unresolved() -> None:
    assert unresolved(deployment(vllm(command=["/start.sh"]))) == [f"{C0}.command"]


# TGI, SGLang, Triton, NIM, KServe HF, pullers --------------------------------------------------


TGI = "ghcr.io/huggingface/text-generation-inference:3.3.4"


def test_tgi_flag_and_env_forms() -> None:
    flag = deployment(
        {"name": "t", "image": TGI, "args": ["--model-id", "org/t", "--revision", REV]}
    )
    assert refs(flag) == [
        ("hf://org/t", f"{C0}.args[1]", REV, "Text Generation Inference --model-id")
    ]
    env = [{"name": "MODEL_ID", "value": "org/e"}, {"name": "REVISION", "value": REV}]
    assert refs(deployment({"name": "t", "image": TGI, "env": env})) == [
        ("hf://org/e", f"{C0}.env[0].value", REV, "Text Generation Inference env MODEL_ID")
    ]


def test_tgi_flag_beats_env_and_lora_list() -> None:
    env = [
        {"name": "MODEL_ID", "value": "org/e"},
        {"name": "LORA_ADAPTERS", "value": "a=org/l1,org/l2"},
    ]
    body = deployment(
        {
            "name": "t",
            "command": ["text-generation-launcher", "--model-id=org/f"],
            "image": PINNED,
            "env": env,
        }
    )
    assert [r[0] for r in refs(body)] == ["hf://org/f", "hf://org/l1", "hf://org/l2"]


def test_tgi_default_and_envfrom() -> None:
    (ref,) = run(deployment({"name": "t", "image": TGI})).references
    assert ref.value == "bigscience/bloom-560m"
    body = deployment({"name": "t", "image": TGI, "envFrom": [{"configMapRef": {"name": "x"}}]})
    assert unresolved(body) == [f"{C0}.envFrom"]


def test_sglang_model_path_and_no_default() -> None:
    cmd = ["python3", "-m", "sglang.launch_server", "--model-path", "org/s", "--revision", REV]
    assert refs(deployment({"name": "s", "image": "lmsysorg/sglang:v0.5", "command": cmd}))[0][
        :3
    ] == (
        "hf://org/s",
        f"{C0}.command[4]",
        REV,
    )
    bare = deployment({"name": "s", "image": "lmsysorg/sglang:v0.5", "command": cmd[:3]})
    assert unresolved(bare) == [f"{C0}.args"]


def test_triton_model_repositories_each_count() -> None:
    body = deployment(
        {
            "name": "t",
            "image": "nvcr.io/nvidia/tritonserver:25.01-py3",
            "command": [
                "tritonserver",
                "--model-repository=s3://b/one",
                "--model-repository",
                "gs://b/two/",
            ],
        }
    )
    assert [r[0] for r in refs(body)] == ["s3://b/one", "gs://b/two"]


def test_nim_image_is_the_model_unless_env_names_another() -> None:
    nim = {"name": "n", "image": "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3"}
    assert run(deployment(nim)) == Resolution()
    env = [{"name": "NIM_MODEL_NAME", "value": "hf://org/other"}]
    assert [r[0] for r in refs(deployment({**nim, "env": env}))] == ["hf://org/other"]


def test_model_puller_init_container_and_emptydir() -> None:
    puller = {
        "name": "pull",
        "image": PINNED,
        "command": ["huggingface-cli", "download", "org/w", "--revision", REV, "--local-dir", "/m"],
        "volumeMounts": [{"name": "w", "mountPath": "/m"}],
    }
    server = vllm("--model", "/models/w", volumeMounts=[{"name": "w", "mountPath": "/models"}])
    body = deployment(server, initContainers=[puller], volumes=[{"name": "w", "emptyDir": {}}])
    resolution = run(body)
    assert resolution.unresolved == ()
    pulled, fetched = resolution.references
    assert (pulled.target, pulled.uri, pulled.pinned) == (Target.PULLED, "/models/w", True)
    assert "init container pull" in str(pulled.via)
    assert (fetched.uri, fetched.revision, fetched.path) == (
        "hf://org/w",
        REV,
        "spec.template.spec.initContainers[0].command[2]",
    )


def test_emptydir_nobody_fills_is_unresolved() -> None:
    server = vllm("--model", "/models/w", volumeMounts=[{"name": "w", "mountPath": "/models"}])
    assert unresolved(deployment(server, volumes=[{"name": "w", "emptyDir": {}}])) == [
        f"{C0}.args[1]"
    ]


def test_local_path_through_pvc_image_volume_and_the_image_itself() -> None:
    mounts = [
        {"name": "pvc", "mountPath": "/models", "subPath": "team"},
        {"name": "img", "mountPath": "/weights/"},
    ]
    volumes = [
        {"name": "pvc", "persistentVolumeClaim": {"claimName": "llama"}},
        {"name": "img", "image": {"reference": "reg.example.com/w@sha256:" + "b" * 64}},
    ]
    for path, target, uri in [
        ("/models/llama-3", Target.URI, "pvc://llama/team/llama-3"),
        ("/weights/x", Target.OCI, "oci://reg.example.com/w@sha256:" + "b" * 64),
        ("/opt/model", Target.IMAGE, "/opt/model"),
    ]:
        (ref,) = run(
            deployment(vllm("--model", path, volumeMounts=mounts), volumes=volumes)
        ).references
        assert (ref.target, ref.uri) == (target, uri), path


def test_host_path_model_is_unresolved() -> None:
    body = deployment(
        vllm("--model", "/host/m", volumeMounts=[{"name": "h", "mountPath": "/host"}]),
        volumes=[{"name": "h", "hostPath": {"path": "/srv/models"}}],
    )
    assert unresolved(body) == ["spec.template.spec.volumes[0]"]


def test_ollama_is_an_engine_whose_model_no_field_names() -> None:
    assert unresolved(deployment({"name": "o", "image": "ollama/ollama:0.9"})) == [C0]


# Containers of no known engine ---------------------------------------------------------------


def test_an_unknown_image_naming_no_model_has_no_reference() -> None:
    body = deployment(
        {"name": "srv", "image": PINNED, "env": [{"name": "MODEL_NAME", "value": "fraud"}]}
    )
    assert run(body) == Resolution()


@pytest.mark.parametrize(
    ("env", "uri"),
    [
        ("HF_MODEL_ID", "hf://org/hf"),
        ("MODEL_ID", "hf://org/hf"),
        ("MODEL_NAME", "hf://org/hf"),
        ("STORAGE_URI", "s3://b/k"),
    ],
)
def test_conventional_env_in_any_container(env: str, uri: str) -> None:
    value = "s3://b/k" if uri.startswith("s3") else "org/hf"
    body = deployment({"name": "srv", "image": PINNED, "env": [{"name": env, "value": value}]})
    (ref,) = run(body).references
    assert (ref.uri, ref.path, ref.certainty) == (uri, f"{C0}.env[0].value", Certainty.INFERRED)


def test_generic_flags_and_store_uris_in_arguments() -> None:
    body = deployment(
        {
            "name": "srv",
            "image": PINNED,
            "args": ["--model-path=org/x", "gs://b/extra", "--port", "80"],
        }
    )
    assert [r[0] for r in refs(body)] == ["hf://org/x", "gs://b/extra"]


# KServe ----------------------------------------------------------------------------------------


def isvc(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "i", "namespace": "ai", "labels": {"aigov.io/model": "m"}},
        "spec": {"predictor": {"model": model}},
    }


def test_kserve_storage_uri_uris_and_storage_key() -> None:
    body = isvc(
        {
            "modelFormat": {"name": "sklearn"},
            "storageUri": "s3://a/b",
            "storageUris": [{"uri": "gs://c"}, "pvc://d/e"],
        }
    )
    assert [(r[0], r[1]) for r in refs(body)] == [
        ("s3://a/b", "spec.predictor.model.storageUri"),
        ("gs://c", "spec.predictor.model.storageUris[0].uri"),
        ("pvc://d/e", "spec.predictor.model.storageUris[1]"),
    ]
    assert unresolved(isvc({"storage": {"key": "secret", "path": "x"}})) == [
        "spec.predictor.model.storage"
    ]


def test_kserve_huggingface_runtime_by_model_format() -> None:
    body = isvc(
        {
            "modelFormat": {"name": "huggingface"},
            "args": ["--model_id=org/h", f"--model_revision={REV}"],
        }
    )
    assert refs(body) == [
        (
            "hf://org/h",
            "spec.predictor.model.args[0]",
            REV,
            "KServe Hugging Face runtime --model_id",
        )
    ]
    assert unresolved(isvc({"modelFormat": {"name": "huggingface"}})) == [
        "spec.predictor.model.args"
    ]


def test_storage_uri_env_in_a_custom_predictor() -> None:
    body = isvc({})
    body["spec"]["predictor"] = {
        "containers": [
            {"name": "c", "image": PINNED, "env": [{"name": "STORAGE_URI", "value": "s3://x"}]}
        ]
    }
    assert refs(body) == [
        ("s3://x", "spec.predictor.containers[0].env[0].value", None, "env STORAGE_URI")
    ]


def test_an_ai_kind_aigov_cannot_read_is_unresolved() -> None:
    body = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "l"},
        "spec": {},
    }
    assert unresolved(body) == ["spec"]


# The table is data ---------------------------------------------------------------------------


def test_a_platform_team_extends_the_table() -> None:
    extra = EngineTable.from_yaml(
        """
engines:
  - name: acme
    title: ACME server
    images: [acme-serve]
    model: {flags: [--weights-uri]}
    default: acme/base
generic:
  env: [ACME_MODEL]
"""
    )
    table = builtin_engines().extended(extra)
    body = deployment(
        {"name": "a", "image": "reg/acme-serve:1", "args": ["--weights-uri", "s3://w"]}
    )
    (declared,) = run(body, table).references
    assert (declared.uri, declared.source) == ("s3://w", "ACME server --weights-uri")
    (inferred,) = run(body).references  # a store URI in the arguments counts anywhere
    assert (inferred.uri, inferred.certainty) == ("s3://w", Certainty.INFERRED)
    bare = deployment({"name": "a", "image": "reg/acme-serve:1"})
    assert [r.value for r in run(bare, table).references] == ["acme/base"]
    assert run(bare).references == ()
    env = deployment(
        {"name": "b", "image": PINNED, "env": [{"name": "ACME_MODEL", "value": "org/z"}]}
    )
    assert [r.uri for r in run(env, table).references] == ["hf://org/z"]
    assert table.engines[0].name == "acme"
    assert "vllm" in {e.name for e in table.engines}


def test_a_bad_table_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match=r"extra\.yaml: not a valid engine table"):
        EngineTable.from_yaml("engines: [{title: no name}]", "extra.yaml")


@pytest.mark.parametrize(
    "garbage",
    [
        {"args": [None, {}, 3]},
        {"command": ["sh", "-c"]},
        {"args": ["--model"], "env": "x"},
        {"args": ["--lora-modules"]},
        {"command": ["vllm", "serve", "-"]},
    ],
)
def test_odd_input_never_raises(garbage: dict[str, Any]) -> None:
    run(deployment({"name": "v", "image": "vllm/vllm-openai", **garbage}))


def test_words_after_a_shell_script_are_read_too() -> None:
    """`sh -c 'exec "$@"' -- vllm serve x` runs the words after the script."""
    body = deployment(
        {
            "name": "s",
            "image": PINNED,
            "command": ["sh", "-c", 'exec "$@"', "--", "vllm", "serve", "other/model"],
        }
    )
    assert refs(body) == [
        ("hf://other/model", f"{C0}.command[6]", None, "vLLM positional argument")
    ]


def test_long_shell_options_are_not_the_script_flag() -> None:
    script = "vllm serve org/s --revision " + REV
    body = deployment({"name": "s", "image": PINNED, "command": ["bash", "--norc", "-c", script]})
    assert refs(body) == [("hf://org/s", f"{C0}.command[3]", REV, "vLLM positional argument")]


def test_kserve_hub_uri_with_a_commit_after_a_colon() -> None:
    """KServe's storage initializer reads hf://<org>/<name>:<commit>."""
    body = isvc({"modelFormat": {"name": "huggingface"}, "storageUri": f"hf://org/name:{REV}"})
    (ref,) = run(body).references
    assert (ref.uri, ref.revision, ref.revision_path) == (
        "hf://org/name",
        REV,
        "spec.predictor.model.storageUri",
    )
    assert ref.pinned
