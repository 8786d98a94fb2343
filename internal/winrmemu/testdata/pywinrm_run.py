"""Drive the WinRM emulator with pywinrm (Debian's python3-winrm 0.3.0).

Usage: pywinrm_run.py '<json spec>'
spec: {"endpoint", "transport", "encryption", "username", "password",
       "operation_timeout", "read_timeout", "ca", "commands": ["..."]}
Prints one JSON object: {"results": [{"stdout", "stderr", "code"}],
"fault_after_close": "..."} or {"error": "..."}.
"""
import json
import sys
import traceback

import winrm
from winrm.exceptions import WinRMError


def main():
    spec = json.loads(sys.argv[1])
    kwargs = dict(
        transport=spec["transport"],
        username=spec["username"],
        password=spec["password"],
        message_encryption=spec.get("encryption", "auto"),
        operation_timeout_sec=spec.get("operation_timeout", 20),
        read_timeout_sec=spec.get("read_timeout", 30),
    )
    if spec.get("ca"):
        kwargs["ca_trust_path"] = spec["ca"]
    out = {"results": []}
    try:
        p = winrm.Protocol(spec["endpoint"], **kwargs)
        shell = p.open_shell()
        for line in spec["commands"]:
            cmd = p.run_command(shell, line)
            stdout, stderr, code = p.get_command_output(shell, cmd)
            p.cleanup_command(shell, cmd)
            out["results"].append({
                "stdout": stdout.decode("utf-8"),
                "stderr": stderr.decode("utf-8"),
                "code": code,
            })
        p.close_shell(shell)
        try:
            p.run_command(shell, "echo after close")
            out["fault_after_close"] = ""
        except WinRMError as e:
            out["fault_after_close"] = str(e)
    except Exception as e:  # report, don't crash: the Go test prints it
        out = {"error": "%s: %s" % (type(e).__name__, e),
               "traceback": traceback.format_exc()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
