"""The worker's ASGI app and handler contract, in process: a real scikit-learn model,
SageMaker-style inference scripts, and the errors a client sees."""

from __future__ import annotations

import asyncio
import io
import json
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from groundfog.serving.worker import codecs
from groundfog.serving.worker.app import create_app
from groundfog.serving.worker.defaults import ModelLoadError
from groundfog.serving.worker.handlers import ProgramNotFound, load_handler, resolve_program


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode()


def call(app, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
    """One request through the ASGI app, the body sent in two chunks as a server may."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    half = len(body) // 2
    incoming = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:], "more_body": False},
    ]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, content = sent
    assert start["type"] == "http.response.start"
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert int(response_headers["content-length"]) == len(content["body"])
    return Answer(start["status"], response_headers, content["body"])


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(solver="liblinear").fit(X, y)
    return model, X


@pytest.fixture
def model_dir(tmp_path: Path, breast_cancer) -> Path:
    directory = tmp_path / "model"
    directory.mkdir()
    joblib.dump(breast_cancer[0], directory / "model.joblib")
    return directory


def script(tmp_path: Path, source: str, name: str = "inference.py") -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    path = code / name
    path.write_text(textwrap.dedent(source))
    return path


def csv_of(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode() + b"\n"


# ---------------------------------------------------------------- default handlers


def test_csv_rows_are_predicted_one_line_each(model_dir, breast_cancer):
    model, X = breast_cancer
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", csv_of(X[:7]), {"content-type": "text/csv", "accept": "text/csv"})
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/csv"
    assert answer.text.splitlines() == [str(v) for v in model.predict(X[:7])]
    assert int(answer.headers["x-groundfog-model-latency-us"]) > 0


def test_single_csv_line_without_newline_is_one_row(model_dir, breast_cancer):
    model, X = breast_cancer
    app = create_app(load_handler(str(model_dir), "sklearn"))
    body = ",".join(map(str, X[3])).encode()
    answer = call(app, "POST", "/invocations", body, {"content-type": "text/csv; charset=utf-8"})
    assert answer.status == 200
    assert answer.text == f"{model.predict(X[3:4])[0]}\n"


def test_json_instances_and_flat_list_round_trip(model_dir, breast_cancer):
    model, X = breast_cancer
    app = create_app(load_handler(str(model_dir), "sklearn"))
    rows = {"instances": X[10:15].tolist()}
    answer = call(app, "POST", "/invocations", json.dumps(rows).encode(), {"content-type": "application/json"})
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body) == model.predict(X[10:15]).tolist()

    flat = call(app, "POST", "/invocations", json.dumps(X[20].tolist()).encode(), {"content-type": "application/json"})
    assert json.loads(flat.body) == model.predict(X[20:21]).tolist()


def test_npy_round_trip(model_dir, breast_cancer):
    model, X = breast_cancer
    app = create_app(load_handler(str(model_dir), "sklearn"))
    buffer = io.BytesIO()
    np.save(buffer, X[:9])
    answer = call(app, "POST", "/invocations", buffer.getvalue(),
                  {"content-type": "application/x-npy", "accept": "application/x-npy"})  # fmt: skip
    assert answer.status == 200 and answer.headers["content-type"] == "application/x-npy"
    np.testing.assert_array_equal(np.load(io.BytesIO(answer.body)), model.predict(X[:9]))


def test_accept_any_answers_in_the_request_type_when_it_can(model_dir, breast_cancer):
    _, X = breast_cancer
    app = create_app(load_handler(str(model_dir), "sklearn"))
    csv = call(app, "POST", "/invocations", csv_of(X[:2]), {"content-type": "text/csv", "accept": "*/*"})
    assert csv.headers["content-type"] == "text/csv"
    listed = call(app, "POST", "/invocations", csv_of(X[:2]),
                  {"content-type": "text/csv", "accept": "application/xml, application/json;q=0.5"})  # fmt: skip
    assert listed.headers["content-type"] == "application/json"
    default = call(app, "POST", "/invocations", json.dumps(X[:2].tolist()).encode())
    assert default.status == 200 and default.headers["content-type"] == "application/json"


def test_ping_answers_200_and_other_routes_404_or_405(model_dir):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    assert call(app, "GET", "/ping").status == 200
    assert call(app, "GET", "/ping").body == b""
    assert call(app, "GET", "/nope").status == 404
    wrong = call(app, "GET", "/invocations")
    assert wrong.status == 405 and "POST" in wrong.text


# ---------------------------------------------------------------- client errors


def test_unsupported_content_type_is_415_listing_the_accepted_ones(model_dir):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", b"<x/>", {"content-type": "application/xml"})
    assert answer.status == 415
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text == (
        "unsupported content type 'application/xml': this model accepts text/csv, application/json, application/x-npy"
    )


def test_unsupported_accept_is_406(model_dir, breast_cancer):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", csv_of(breast_cancer[1][:1]),
                  {"content-type": "text/csv", "accept": "image/png"})  # fmt: skip
    assert answer.status == 406
    assert "image/png" in answer.text and "application/json" in answer.text


def test_bad_csv_value_is_400_naming_the_line(model_dir):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", b"1,2\n3,4\n5,abc\n", {"content-type": "text/csv"})
    assert answer.status == 400
    assert answer.text == "line 3: could not convert 'abc' to a number"


def test_ragged_csv_is_400_naming_the_line(model_dir):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", b"1,2,3\n\n4,5\n", {"content-type": "text/csv"})
    assert answer.status == 400
    assert answer.text.startswith("line 3: expected 3 values")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[1, 2,", "not valid JSON"),
        (b'[[1, 2], [3, "x"]]', '"x" at [1][1] is not a number'),
        (b'{"rows": [1]}', '"instances" or "inputs"'),
        (b"[[1, 2], [3]]", "different lengths"),
    ],
)
def test_undecodable_json_is_400(model_dir, body, fragment):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", body, {"content-type": "application/json"})
    assert answer.status == 400
    assert fragment in answer.text


def test_model_raising_is_500_with_the_exception_and_worker_keeps_serving(model_dir, breast_cancer):
    # Wrong number of features: scikit-learn raises ValueError inside predict.
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", b"1,2,3\n", {"content-type": "text/csv"})
    assert answer.status == 500
    assert answer.text.startswith("ValueError: X has 3 features")
    assert "\n" not in answer.text
    assert call(app, "POST", "/invocations", csv_of(breast_cancer[1][:1]), {"content-type": "text/csv"}).status == 200


# ---------------------------------------------------------------- user scripts


def test_custom_input_and_output_fn(tmp_path, model_dir, breast_cancer):
    model, X = breast_cancer
    program = script(tmp_path, """
        import json
        import numpy as np

        def input_fn(request_body, request_content_type):
            assert isinstance(request_body, str), type(request_body)
            assert request_content_type == "application/json"
            return np.array([json.loads(request_body)["features"]])

        def predict_fn(input_data, model):
            return model.predict_proba(input_data)[0]

        def output_fn(prediction, accept):
            label = int(prediction.argmax())
            return json.dumps({"label": label, "probability": float(prediction[label])}), accept
    """)
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    body = json.dumps({"features": X[5].tolist()}).encode()
    answer = call(app, "POST", "/invocations", body, {"content-type": "application/json; charset=utf-8"})
    assert answer.status == 200
    expected = model.predict_proba(X[5:6])[0]
    assert json.loads(answer.body) == {"label": int(expected.argmax()), "probability": float(expected.max())}
    assert answer.headers["content-type"] == "application/json"


def test_binary_payloads_reach_input_fn_as_bytes(tmp_path, model_dir):
    program = script(tmp_path, """
        def input_fn(request_body, request_content_type):
            return type(request_body).__name__, request_content_type, len(request_body)

        def predict_fn(input_data, model):
            return input_data

        def output_fn(prediction, accept):
            return ",".join(map(str, prediction)).encode()
    """)
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    answer = call(app, "POST", "/invocations", b"\x00\x01\x02", {"content-type": "application/octet-stream"})
    assert answer.status == 200
    assert answer.text == "bytes,application/octet-stream,3"
    # No Accept, and no default encoder for the request's type: the toolkit's default.
    assert answer.headers["content-type"] == "application/json"


def test_transform_fn_replaces_the_chain(tmp_path, model_dir, breast_cancer):
    model, X = breast_cancer
    program = script(tmp_path, """
        import io
        import numpy as np

        def transform_fn(model, request_body, content_type, accept):
            rows = np.loadtxt(io.StringIO(request_body), delimiter=",", ndmin=2)
            return "|".join(str(v) for v in model.predict(rows)), "text/x-pipe"
    """)
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    answer = call(app, "POST", "/invocations", csv_of(X[:4]), {"content-type": "text/csv"})
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/x-pipe"
    assert answer.text == "|".join(str(v) for v in model.predict(X[:4]))


def test_transform_fn_with_input_fn_is_refused_at_load(tmp_path, model_dir):
    program = script(tmp_path, """
        def input_fn(request_body, content_type):
            return request_body

        def transform_fn(model, request_body, content_type, accept):
            return request_body
    """)
    with pytest.raises(ModelLoadError, match="inference.py defines transform_fn and input_fn"):
        load_handler(str(model_dir), "sklearn", program)


def test_handlers_taking_a_context_see_and_set_custom_attributes(tmp_path, model_dir, breast_cancer):
    _, X = breast_cancer
    program = script(tmp_path, """
        from groundfog.serving.worker.codecs import decode

        def model_fn(model_dir, context):
            import joblib
            assert context.system_properties["model_dir"] == model_dir
            return joblib.load(model_dir + "/model.joblib")

        def input_fn(request_body, request_content_type, context):
            context.response_custom_attributes = "seen=" + str(context.custom_attributes)
            return decode(request_body, request_content_type)

        def predict_fn(input_data, model, context):
            return [context.inference_id, context.get_request_header(0, "X-Amzn-SageMaker-Custom-Attributes")]

        def output_fn(prediction, accept):
            return ",".join(prediction)
    """)
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    answer = call(app, "POST", "/invocations", csv_of(X[:1]), {
        "content-type": "text/csv",
        "accept": "text/csv",
        "X-Amzn-SageMaker-Custom-Attributes": "trace=abc",
        "X-Amzn-SageMaker-Inference-Id": "req-42",
    })  # fmt: skip
    assert answer.status == 200
    assert answer.text == "req-42,trace=abc"
    assert answer.headers["x-amzn-sagemaker-custom-attributes"] == "seen=trace=abc"


def test_mms_style_set_response_header_reaches_the_caller(tmp_path, model_dir):
    program = script(tmp_path, """
        def transform_fn(model, request_body, content_type, accept, context):
            context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", "cached=false")
            return b"ok"
    """)
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    answer = call(app, "POST", "/invocations", b"x", {"content-type": "text/plain", "accept": "text/plain"})
    assert answer.text == "ok"
    assert answer.headers["content-type"] == "text/plain"
    assert answer.headers["x-amzn-sagemaker-custom-attributes"] == "cached=false"


def test_no_custom_attributes_header_unless_the_handler_sets_one(model_dir, breast_cancer):
    app = create_app(load_handler(str(model_dir), "sklearn"))
    answer = call(app, "POST", "/invocations", csv_of(breast_cancer[1][:1]),
                  {"content-type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "a=b"})  # fmt: skip
    assert "x-amzn-sagemaker-custom-attributes" not in answer.headers


def test_a_model_failing_every_other_call_keeps_serving(tmp_path, model_dir):
    program = script(tmp_path, """
        class Flaky:
            calls = 0

            def predict(self, data):
                self.calls += 1
                if self.calls % 2 == 0:
                    raise RuntimeError(f"call {self.calls} failed")
                return data.sum(axis=1)

        def model_fn(model_dir):
            return Flaky()
    """, name="flaky_inference.py")  # fmt: skip
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    statuses = []
    for _ in range(6):
        answer = call(app, "POST", "/invocations", b"1,2\n", {"content-type": "text/csv"})
        statuses.append(answer.status)
        if answer.status == 200:
            assert answer.text == "3.0\n"
        else:
            assert answer.text.startswith("RuntimeError: call ")
    assert statuses == [200, 500, 200, 500, 200, 500]


def test_user_input_fn_errors_are_500_not_400(tmp_path, model_dir):
    program = script(tmp_path, """
        def input_fn(request_body, request_content_type):
            raise ValueError(f"cannot read {request_content_type}")
    """)
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    answer = call(app, "POST", "/invocations", b"1,2", {"content-type": "text/csv"})
    assert answer.status == 500
    assert answer.text == "ValueError: cannot read text/csv"


def test_script_imports_its_siblings(tmp_path, model_dir):
    script(tmp_path, "SCALE = 10\n", name="sibling_settings.py")
    program = script(tmp_path, """
        from sibling_settings import SCALE

        def transform_fn(model, request_body, content_type, accept):
            return str(SCALE)
    """, name="sibling_user.py")  # fmt: skip
    app = create_app(load_handler(str(model_dir), "sklearn", program))
    assert call(app, "POST", "/invocations", b"{}", {"content-type": "application/json"}).text == "10"


# ---------------------------------------------------------------- loading


def test_missing_model_file_names_the_directory_and_what_was_looked_for(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError) as caught:
        load_handler(str(empty), "sklearn")
    assert str(empty) in str(caught.value) and "model.joblib" in str(caught.value)


def test_the_only_pickle_in_the_model_dir_is_loaded(tmp_path, breast_cancer):
    model, X = breast_cancer
    directory = tmp_path / "m"
    directory.mkdir()
    joblib.dump(model, directory / "classifier.pkl")
    handler = load_handler(str(directory), "sklearn")
    assert (handler.model.coef_ == model.coef_).all()


def test_model_fn_raising_names_the_function_and_script(tmp_path, model_dir):
    program = script(tmp_path, """
        def model_fn(model_dir):
            raise FileNotFoundError("weights.bin")
    """)
    with pytest.raises(ModelLoadError, match=r"model_fn in inference.py raised FileNotFoundError: weights.bin"):
        load_handler(str(model_dir), "sklearn", program)


def test_handler_with_the_wrong_arity_is_refused_at_load(tmp_path, model_dir):
    program = script(tmp_path, """
        def predict_fn(data):
            return data
    """)
    with pytest.raises(ModelLoadError, match=r"predict_fn in inference.py takes 1 arguments"):
        load_handler(str(model_dir), "sklearn", program)


def test_program_is_found_in_model_code_dir_and_missing_one_is_named(tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    (model_dir / "code" / "inference.py").write_text("")
    assert resolve_program(str(model_dir), None, "inference.py") == model_dir / "code" / "inference.py"
    assert resolve_program(str(model_dir), None, None) == model_dir / "code" / "inference.py"
    assert resolve_program(str(tmp_path), str(tmp_path / "nowhere"), None) is None
    with pytest.raises(ProgramNotFound, match="serve.py"):
        resolve_program(str(model_dir), None, "serve.py")


# ---------------------------------------------------------------- codecs


@pytest.mark.parametrize(
    ("payload", "shape"),
    [
        ("[1, 2, 3]", (1, 3)),
        ("[[1, 2], [3, 4]]", (2, 2)),
        ("5", (1, 1)),
        ("[7]", (1, 1)),
        ('{"instances": [[1, 2]]}', (1, 2)),
        ('{"inputs": [1, 2]}', (1, 2)),
    ],
)
def test_json_shapes(payload, shape):
    assert codecs.decode_json(payload).shape == shape


def test_csv_encoding_of_1d_and_2d_predictions():
    assert codecs.encode_csv(np.array([1, 0])) == b"1\n0\n"
    assert codecs.encode_csv(np.array([[0.25, 0.75], [1.0, 0.0]])) == b"0.25,0.75\n1.0,0.0\n"
    assert codecs.encode_jsonlines(np.array([[1, 2], [3, 4]])) == b"[1, 2]\n[3, 4]\n"


def test_json_encoding_handles_numpy_inside_containers():
    assert json.loads(codecs.encode_json({"scores": np.array([0.5]), "label": np.int64(1)})) == {
        "scores": [0.5],
        "label": 1,
    }


# ---------------------------------------------------------------- other frameworks' defaults


def test_pytorch_whole_module_saved_with_torch_save_is_served(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Linear(3, 1))
    directory = tmp_path / "torch"
    directory.mkdir()
    torch.save(module, directory / "model.pth")
    app = create_app(load_handler(str(directory), "pytorch"))
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, rows)
    answer = call(app, "POST", "/invocations", buffer.getvalue(),
                  {"content-type": "application/x-npy", "accept": "application/json"})  # fmt: skip
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    with torch.no_grad():
        np.testing.assert_allclose(json.loads(answer.body), module(torch.from_numpy(rows)).numpy(), rtol=1e-6)


def test_pytorch_state_dict_asks_for_a_model_fn(tmp_path):
    torch = pytest.importorskip("torch")
    directory = tmp_path / "torch"
    directory.mkdir()
    torch.save(torch.nn.Linear(3, 1).state_dict(), directory / "model.pth")
    with pytest.raises(ModelLoadError, match="holds a state_dict, not a model: define model_fn"):
        load_handler(str(directory), "pytorch")


def test_xgboost_booster_pickled_by_older_containers_is_served(tmp_path):
    xgb = pytest.importorskip("xgboost")
    X, y = load_breast_cancer(return_X_y=True)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), num_boost_round=5)
    directory = tmp_path / "xgb"
    directory.mkdir()
    joblib.dump(booster, directory / "xgboost-model")
    app = create_app(load_handler(str(directory), "xgboost"))
    answer = call(app, "POST", "/invocations", csv_of(X[:3]), {"content-type": "text/csv"})
    assert answer.status == 200
    np.testing.assert_allclose([float(v) for v in answer.text.split()], booster.predict(xgb.DMatrix(X[:3])), rtol=1e-6)


def test_xgboost_user_predict_fn_receives_a_dmatrix(tmp_path):
    xgb = pytest.importorskip("xgboost")
    X, y = load_breast_cancer(return_X_y=True)
    directory = tmp_path / "xgb"
    directory.mkdir()
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), num_boost_round=2)
    booster.save_model(str(directory / "model.json"))
    program = script(tmp_path, """
        def predict_fn(input_data, model):
            return [type(input_data).__name__, input_data.num_row()]
    """, name="xgb_inference.py")  # fmt: skip
    app = create_app(load_handler(str(directory), "xgboost", program))
    headers = {"content-type": "text/csv", "accept": "application/json"}
    assert json.loads(call(app, "POST", "/invocations", csv_of(X[:2]), headers).body) == ["DMatrix", 2]
