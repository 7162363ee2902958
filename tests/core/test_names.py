import pytest

from groundfog.core.errors import ValidationError
from groundfog.core.names import arn, name_from_arn, validate_bucket_name, validate_name, validate_prefix


def test_arn_has_the_documented_shape():
    assert arn("storage", "bucket", "data") == "arn:groundfog:storage:local:000000000000:bucket/data"
    assert name_from_arn(arn("events", "rule", "r1")) == "r1"
    assert name_from_arn("plain-name") == "plain-name"


@pytest.mark.parametrize("name", ["a", "train-job-1", "A1-b2-C3", "x" * 63])
def test_sagemaker_style_names_accepted(name):
    assert validate_name(name, "TrainingJobName") == name


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "1-63 characters"),
        ("x" * 64, "1-63 characters"),
        ("-lead", "must match"),
        ("trail-", "must match"),
        ("under_score", "must match"),
        ("sp ace", "must match"),
        (42, "must be a string"),
    ],
)
def test_bad_names_name_the_field(name, fragment):
    with pytest.raises(ValidationError) as err:
        validate_name(name, "EndpointName")
    assert fragment in str(err.value)
    assert err.value.field == "EndpointName"


@pytest.mark.parametrize("name", ["abc", "my-bucket.data", "a1b2c3", "x" * 63])
def test_valid_bucket_names(name):
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("ab", "3-63"),
        ("x" * 64, "3-63"),
        ("Upper", "lowercase"),
        ("under_score", "lowercase"),
        ("-start", "begin and end"),
        ("end-", "begin and end"),
        ("a..b", "adjacent periods"),
        ("a.-b", "period next to a hyphen"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "reserved prefix"),
        ("bucket-s3alias", "reserved suffix"),
    ],
)
def test_bad_bucket_names_say_which_rule(name, fragment):
    with pytest.raises(ValidationError) as err:
        validate_bucket_name(name)
    assert fragment in str(err.value)


def test_a_prefix_is_a_string_no_longer_than_the_names_it_could_match():
    assert validate_prefix("orders-", "NamePrefix", max_length=64) == "orders-"
    with pytest.raises(ValidationError, match="at most 64") as raised:
        validate_prefix("x" * 65, "NamePrefix", max_length=64)
    assert raised.value.field == "NamePrefix"
    with pytest.raises(ValidationError, match="must be a string"):
        validate_prefix(["x"], "NamePrefix", max_length=64)
