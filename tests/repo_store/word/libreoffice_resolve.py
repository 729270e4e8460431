"""Open .docx files in LibreOffice, accept or reject all their tracked changes, save as text.

Run by the tests with the system Python, which has LibreOffice's UNO bridge:
``/usr/bin/python3 libreoffice_resolve.py PROFILE_DIR JOBS_JSON``, where the JSON is a list of
``[source.docx, "accept" | "reject" | "none", target.txt]``.  One LibreOffice process serves
all jobs, on a pipe of its own, with its own profile; it runs in this script's process group,
which the caller ends when the script is done or runs out of time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

COMMANDS = {"accept": ".uno:AcceptAllTrackedChanges", "reject": ".uno:RejectAllTrackedChanges"}


def _property(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def main() -> int:
    profile, jobs_file = sys.argv[1:3]
    with open(jobs_file, encoding="utf-8") as handle:
        jobs = json.load(handle)
    pipe = f"peerlex_test_{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--invisible",
            "--norestore",
            f"--accept=pipe,name={pipe};urp;",
        ]
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        context = None
        for _ in range(300):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:  # noqa: BLE001  (not listening yet)
                time.sleep(0.2)
        if context is None:
            return 2
        manager = context.ServiceManager
        desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        dispatcher = manager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", context)
        for source, mode, target in jobs:
            document = desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(source), "_blank", 0, (_property("Hidden", True),)
            )
            if mode in COMMANDS:
                frame = document.getCurrentController().getFrame()
                dispatcher.executeDispatch(frame, COMMANDS[mode], "", 0, ())
            document.storeToURL(
                uno.systemPathToFileUrl(target),
                (_property("FilterName", "Text (encoded)"), _property("FilterOptions", "UTF8")),
            )
            document.close(True)
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001,S110  (the bridge goes down with the process)
            pass
    finally:
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
