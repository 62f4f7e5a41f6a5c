import uuid

import pytest

from projections.tuning import stable_id


@pytest.mark.parametrize("key", ["", "a", "exercise/x|12|added", "meeting/2+2|calendar|7|é|2019-01-01", "x" * 500])
def test_a_stable_id_is_the_uuid5_of_its_key(key):
    namespace = uuid.UUID("5d0a7a3e-3b8e-5c4f-9a41-0f3c1e2b7d21")
    assert stable_id(namespace, key) == str(uuid.uuid5(namespace, key))
