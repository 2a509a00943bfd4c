"""A separate OS process that applies one recorded exchange report at an agreed instant (for the race tests).

python -m tests.integration.reconcile.apply_child APP_URL USER_ID EXECUTION_ID REPORT_JSON_PATH START_AT_EPOCH_S
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from uuid import UUID

from autoinvest.db.tx import connect
from autoinvest.exchange import _parse
from autoinvest.lifecycle.apply import apply_order


async def main(app_url: str, user_id: str, execution_id: str, report_path: str, start_at: str) -> None:
    conn = await connect(app_url)
    try:
        report = _parse.order(json.loads(Path(report_path).read_text()))
        await asyncio.sleep(max(0.0, float(start_at) - time.time()))  # both processes start together
        applied = await apply_order(conn, UUID(user_id), UUID(execution_id), report)
    finally:
        await conn.close()
    print(json.dumps({"new_fills": applied.new_fills, "state": applied.execution.state.value}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
