"""Detection's CSV goes through the safe writer: text neutralised, numbers and booleans for programs."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from grappe.detection.indicators import write_frame


def test_detection_csv_neutralises_text_and_keeps_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "rank": [1, 2],
            "territory_name": ["=HYPERLINK(\"http://evil.example\")", "Saint-Étienne"],
            "lq": [-0.5, 1.0 / 3.0],
            "strong": [True, False],
        }
    )
    out = io.StringIO()
    write_frame(frame, out, "csv")
    assert out.getvalue().split("\r\n") == [
        "rank,territory_name,lq,strong",
        "1,\"'=HYPERLINK(\"\"http://evil.example\"\")\",-0.5,true",
        "2,Saint-Étienne,0.3333333333333333,false",
        "",
    ]
    path = tmp_path / "c.csv"
    write_frame(frame, path, "csv")
    assert path.read_bytes() == out.getvalue().encode("utf-8")  # no BOM
