"""`smalgo convert` on CSV files as others publish them (the NYC TLC trip
files): --header, --columns by name or number, and bad rows.

- a header row and text columns (datetimes, Y/N flags): the kept columns are
  byte-identical to the SageMaker SDK's writer on the same float32 values
  (pandas reads the oracle);
- a row with an empty or non-numeric kept cell stops the conversion with exit
  status 1 and a message naming the file, line, column number and name, and
  the cell, and writes no partial file; with --skip-bad-rows such rows are
  left out and counted, and the rest converts exactly;
- bad selections (unknown name, column 0 or past the end, a name without
  --header) are refused before anything is written;
- the real 2015-01 TLC file (../shared/data/nyc-taxi, skipped when absent)
  converts with its 15 numeric columns other than VendorID, row for row
  equal to pandas' float32 reading.
"""
import os

import numpy as np
import pytest

from smgkit.paths import shared_dir
from smgkit.payloads import sdk_dense

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
pytest.importorskip("sagemaker.amazon.common")
pd = pytest.importorskip("pandas")

HEADER = ("VendorID,tpep_pickup_datetime,passenger_count,trip_distance,pickup_longitude,"
          "pickup_latitude,RateCodeID,store_and_fwd_flag,fare_amount")
GOOD = ["2,2015-01-17 19:38:37,1,.82,-73.990371704101563,40.734695434570313,1,N,5.5",
        "1,2015-01-03 01:37:02,2,1.5,-73.977180480957031,40.757789611816406,1,Y,7.5",
        "1,2015-01-09 11:22:01,1,0,0,0,1,N,-2.5"]
KEEP = "pickup_longitude,PICKUP_LATITUDE,9,trip_distance"


def table(rows):
    return "\n".join([HEADER] + rows) + "\n"


def oracle(rows):
    from io import StringIO
    df = pd.read_csv(StringIO(table(rows)))
    df.columns = [c.lower() for c in df.columns]
    return df[["pickup_longitude", "pickup_latitude", "fare_amount", "trip_distance"]
              ].to_numpy(np.float64).astype(np.float32)


def convert(run_smalgo, tmp_path, text, *extra):
    (tmp_path / "t.csv").write_text(text)
    return run_smalgo("convert", "--input", tmp_path / "t.csv", "--output", tmp_path / "t.pbr",
                      *extra, timeout=120)


def test_header_and_names_byte_identical(tmp_path, run_smalgo):
    p = convert(run_smalgo, tmp_path, table(GOOD), "--header", "--columns", KEEP)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "t.pbr").read_bytes() == sdk_dense(oracle(GOOD))


@pytest.mark.parametrize("bad,where", [
    ("1,2015-01-01 00:00:00,1,,-73.9,40.7,1,N,5", "line 3: column 4 (trip_distance): empty cell"),
    ("1,2015-01-01 00:00:00,1,2,-73.9,40.7,1,N,abc",
     "line 3: column 9 (fare_amount): 'abc' is not a number"),
    ("1,2015-01-01 00:00:00,1,2,-73.9,40.7,1,N", "line 3: 8 fields, expected 9"),
    ("1,2015-01-01 00:00:00,1,2,-73.9,nan,1,N,4", "line 3: column 6 (pickup_latitude): 'nan'"),
])
def test_bad_row_named_or_skipped(tmp_path, run_smalgo, bad, where):
    rows = GOOD[:1] + [bad] + GOOD[1:]
    p = convert(run_smalgo, tmp_path, table(rows), "--header", "--columns", KEEP)
    assert p.returncode == 1
    assert "t.csv: " + where in p.stderr, p.stderr
    assert "--skip-bad-rows" in p.stderr
    p = convert(run_smalgo, tmp_path, table(rows), "--header", "--columns", KEEP,
                "--skip-bad-rows")
    assert p.returncode == 0, p.stderr
    assert "skipped 1 row(s)" in p.stderr and where in p.stderr
    assert (tmp_path / "t.pbr").read_bytes() == sdk_dense(oracle(GOOD))


@pytest.mark.parametrize("args,message", [
    (("--header", "--columns", "fare"), "no column named 'fare' in the header"),
    (("--header", "--columns", "0"), "column 0 does not exist"),
    (("--header", "--columns", "10"), "lines have 9 columns"),
    (("--columns", "fare_amount"), "no header row"),
])
def test_bad_selection_refused(tmp_path, run_smalgo, args, message):
    p = convert(run_smalgo, tmp_path, table(GOOD), *args)
    assert p.returncode == 1
    assert message in p.stderr, p.stderr


def test_numbers_without_header(tmp_path, run_smalgo):
    text = "\n".join(GOOD) + "\n"
    p = convert(run_smalgo, tmp_path, text, "--columns", "5,6,9,4")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "t.pbr").read_bytes() == sdk_dense(oracle(GOOD))


TLC16 = ("passenger_count,trip_distance,pickup_longitude,pickup_latitude,RateCodeID,"
         "dropoff_longitude,dropoff_latitude,payment_type,fare_amount,extra,mta_tax,tip_amount,"
         "tolls_amount,improvement_surcharge,total_amount")


def test_real_tlc_month(tmp_path, run_smalgo):
    src = shared_dir() / "data" / "nyc-taxi" / "yellow_tripdata_2015-01.csv"
    if not src.exists():
        pytest.skip(f"NYC taxi data not present at {src}")
    cols = TLC16.split(",")
    p = run_smalgo("convert", "--input", src, "--output", tmp_path / "m.pbr", "--header",
                   "--columns", TLC16, timeout=300)
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(src)
    df.columns = [c.lower() for c in df.columns]
    want = df[[c.lower() for c in cols]].to_numpy(np.float64).astype(np.float32)
    assert len(want) == 25472
    assert (tmp_path / "m.pbr").read_bytes() == sdk_dense(want)
