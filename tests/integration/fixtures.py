"""
fixtures.py: the project's own report payloads, built from what the protocol reference says
(never copies of captured reports).

    full(state, **fields)      a full push_status (msg 0) with every field the bridge reads and
                               some noise; a field given as None is left out
    delta(**fields)            a delta (msg 1) with only the given fields
    h2d_full(state, **fields)  a full report the way H2D sends it: no msg key at all
    hms(attr, code, **extra)   one HMS list entry
    job(name, n)               the identity fields of a job
    version(product)           a get_version answer
"""
import itertools

CANCEL = 50348044           # 0x0300400C "The task was canceled"
CANCEL2 = 83902478          # 0x0500400E "Printing was cancelled"

_seq = itertools.count(2000)


def _noise():
    """Fields a printer sends that the bridge does not use (temperatures, fans, AMS, ...)."""
    return {
        "bed_temper": 24.5, "bed_target_temper": 0.0,
        "nozzle_temper": 27.25, "nozzle_target_temper": 0.0,
        "chamber_temper": 23.0, "wifi_signal": "-48dBm",
        "cooling_fan_speed": "0", "heatbreak_fan_speed": "0", "big_fan1_speed": "0",
        "spd_lvl": 2, "spd_mag": 100, "stg": [], "stg_cur": 255, "mc_print_stage": "1",
        "mc_print_line_number": "0", "print_type": "local", "home_flag": 6295960,
        "sdcard": True, "nozzle_diameter": "0.4", "nozzle_type": "hardened_steel",
        "lights_report": [{"node": "chamber_light", "mode": "on"}],
        "ipcam": {"ipcam_dev": "1", "ipcam_record": "enable", "resolution": "1080p",
                  "timelapse": "disable"},
        "upgrade_state": {"status": "IDLE", "progress": "0", "new_version_state": 2,
                          "message": ""},
        "online": {"ahb": False, "rfid": False, "version": 7},
        "ams": {"ams_exist_bits": "1", "tray_now": "255", "tray_exist_bits": "3",
                "version": 4, "ams": [{"id": "0", "humidity": "4", "temp": "22.1",
                                       "tray": [{"id": "0", "tray_type": "PLA",
                                                 "tray_color": "1F77B4FF", "remain": 80},
                                                {"id": "1", "tray_type": "PETG",
                                                 "tray_color": "FF7F0EFF", "remain": 35}]}]},
        "vt_tray": {"id": "254", "tray_type": "", "tray_color": "00000000"},
        "xcam": {"allow_skip_parts": False, "buildplate_marker_detector": True,
                 "first_layer_inspector": True, "print_halt": True},
    }


def _apply(d, fields):
    for k, v in fields.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def job(name, n=1):
    """Identity fields of a job called name (n makes the task ids differ)."""
    return {"subtask_name": name, "gcode_file": "/sdcard/%s.gcode.3mf" % name,
            "task_id": str(700000 + n), "subtask_id": str(800000 + n)}


def _status(state, msg, fields):
    p = {"command": "push_status", "sequence_id": str(next(_seq))}
    if msg is not None:
        p["msg"] = msg
    p.update({
        "gcode_state": state, "mc_percent": 0, "mc_remaining_time": 0,
        "layer_num": 0, "total_layer_num": 0,
        "subtask_name": "", "gcode_file": "", "task_id": "0", "subtask_id": "0",
        "gcode_start_time": "0", "print_error": 0, "fail_reason": "0", "hms": [],
    })
    p.update(_noise())
    return {"print": _apply(p, fields)}


def full(state="IDLE", **fields):
    """A full snapshot (msg 0) as the answer to a pushall."""
    return _status(state, 0, fields)


def h2d_full(state="IDLE", **fields):
    """A full snapshot with no msg key, as H2D sends it, with H2D's nested device block."""
    r = _status(state, None, {})
    r["print"]["device"] = {"extruder": {"info": [{"id": 0, "temp": 26}, {"id": 1, "temp": 25}],
                                         "state": 2},
                            "nozzle": {"info": [{"id": 0, "diameter": 0.4},
                                                {"id": 1, "diameter": 0.4}]}}
    _apply(r["print"], fields)
    return r


def delta(**fields):
    """A delta (msg 1) carrying only the given fields (and the envelope)."""
    p = {"command": "push_status", "msg": 1, "sequence_id": str(next(_seq))}
    return {"print": _apply(p, fields)}


def hms(attr, code, **extra):
    """One HMS entry; severity is code >> 16 (1 fatal, 2 serious, 3 common, 4 info)."""
    e = {"attr": attr, "code": code}
    e.update(extra)
    return e


def hms_string(attr, code):
    return "HMS_%04X_%04X_%04X_%04X" % (attr >> 16, attr & 0xFFFF, code >> 16, code & 0xFFFF)


def version(product="Bambu Lab X1 Carbon", sw="01.08.02.00"):
    """A get_version answer naming the product and firmware."""
    return {"info": {"command": "get_version", "sequence_id": str(next(_seq)),
                     "module": [{"name": "ota", "product_name": product, "sw_ver": sw,
                                 "hw_ver": "OTA", "sn": "redacted", "visible": True},
                                {"name": "mc", "product_name": "", "sw_ver": "00.00.30.12",
                                 "hw_ver": "MC07", "sn": "redacted", "visible": False}]}}
