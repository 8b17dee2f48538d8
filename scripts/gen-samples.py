#!/usr/bin/env python3
"""Writes samples/access.ndjson: realistic government-portal access logs.

Deterministic (fixed seed). Personal data is synthetic but valid: resident
IDs carry a correct GB 11643 check character, bank cards pass Luhn. Decoys
that must survive masking are planted too: 18-digit order numbers with a
wrong check character, 13-digit epoch-millisecond timestamps, and 16-digit
numeric trace ids that fail Luhn. Two lines are deliberately broken.

Usage: scripts/gen-samples.py [COUNT] > samples/access.ndjson
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

rng = random.Random(20261124)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
REGIONS = ["110105", "310104", "440305", "330106", "510107", "420111", "320102", "370202"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]
PRIVILEGED = ["delete_user", "grant_role", "reset_password", "export_data", "update_permission"]
ORDINARY = ["login", "logout", "view_profile", "submit_application", "query_status", "download_form", "search"]
PATHS = ["/api/v1/profile", "/api/v1/applications", "/api/v1/search", "/admin/users", "/api/v1/forms/download"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50",
    "okhttp/4.12.0",
]


def check_char(first17):
    s = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return "10X98765432"[s % 11]


def cn_id():
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    first17 = rng.choice(REGIONS) + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return first17 + check_char(first17)


def order_no():
    """18 digits shaped like an ID but with a wrong check character."""
    while True:
        v = cn_id()
        wrong = str((int(v[17]) + 1) % 10) if v[17] != "X" else "0"
        cand = v[:17] + wrong
        if check_char(cand[:17]) != cand[17]:
            return cand


def mobile():
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def luhn_digit(body):
    total = 0
    for i, d in enumerate(reversed(body)):
        v = int(d)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def bank_card(n=16):
    body = rng.choice(["622202", "621700", "436742", "622848"]) + "".join(
        rng.choice("0123456789") for _ in range(n - 7)
    )
    return body + luhn_digit(body)


def trace_num():
    """16 digits that fail Luhn."""
    while True:
        body = "".join(rng.choice("0123456789") for _ in range(15))
        good = luhn_digit(body)
        bad = str((int(good) + 1 + rng.randrange(8)) % 10)
        if bad != good:
            return body + bad


def email(name):
    user = rng.choice(["zhang.wei", "li_na", "wangfang88", "chen.min", "liu-yang", "zhaolei"]) + str(rng.randrange(100))
    return f"{user}@{rng.choice(['example.com', 'mail.example.cn', 'corp.example.org'])}"


def event(i, start):
    ts = start + timedelta(milliseconds=i * 137 + rng.randrange(100))
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    idno, phone, mail = cn_id(), mobile(), email(name)
    action = rng.choice(PRIVILEGED) if rng.random() < 0.08 else rng.choice(ORDINARY)
    status = rng.choice([200] * 12 + [201, 204, 302, 400, 403, 404, 500])
    path = rng.choice(PATHS)
    query = rng.choice([
        f"phone={phone}&page=1",
        f"email={mail.replace('@', '%40')}&lang=zh-CN",
        f"q=%E5%BC%A0%E4%BC%9F&id_no={idno}",
        "page=2&size=20",
    ])
    ev = {
        "@timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        "ts_ms": int(ts.timestamp() * 1000),
        "host": f"portal-web-{rng.randrange(1, 9):02d}",
        "service": "citizen-portal",
        "level": "ERROR" if status >= 500 else "INFO",
        "trace_id": trace_num(),
        "request": {
            "method": rng.choice(["GET", "POST", "PUT"]),
            "path": path,
            "query": query,
            "url": f"https://portal.gov.example{path}?{query}",
            "headers": {
                "user-agent": rng.choice(AGENTS),
                "x-forwarded-for": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                "x-user-phone": phone if rng.random() < 0.3 else None,
            },
            "bytes": rng.randrange(200, 4000),
        },
        "response": {"status": status, "bytes": rng.randrange(100, 60000), "duration_ms": rng.randrange(1, 900)},
        "user": {
            "uid": f"u-{rng.randrange(10**6):06d}",
            "name": name,
            "id_no": idno,
            "phone": int(phone) if rng.random() < 0.3 else phone,
            "email": mail,
        },
        "action": action,
        "order_no": order_no(),
        "message": rng.choice([
            f"用户{name}(身份证{idno})通过手机{phone}提交了申请",
            f"联系人电话+86 {phone[:3]} {phone[3:7]} {phone[7:]}，邮箱{mail}",
            f"payment by card {' '.join(bank_card()[j:j + 4] for j in range(0, 16, 4))} accepted",
            f"{action} completed for uid in {rng.randrange(1, 900)} ms",
        ]),
    }
    if rng.random() < 0.2:
        ev["payment"] = {"card_no": bank_card(rng.choice([16, 19])), "amount": round(rng.uniform(1, 5000), 2)}
    if rng.random() < 0.1:
        ev["contacts"] = [{"relation": "spouse", "mobile": mobile()}, {"relation": "parent", "mobile": f"0086-{mobile()}"}]
    if rng.random() < 0.05:
        deep = {"phone": mobile()}
        for level in range(12):
            deep = {f"l{level}": deep}
        ev["extra"] = deep
    if ev["request"]["headers"]["x-user-phone"] is None:
        del ev["request"]["headers"]["x-user-phone"]
    line = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
    if rng.random() < 0.05:
        # The same phone written with JSON escapes: detectors must see through them.
        escaped = "".join(f"\\u{ord(c):04x}" for c in phone)
        line = line[:-1] + f',"callback":"{escaped}"' + "}"
    return line


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    start = datetime(2026, 11, 20, 8, 0, 0, tzinfo=timezone.utc)
    out = sys.stdout
    for i in range(count):
        line = event(i, start)
        if i == 700:
            out.write(line[: len(line) // 2] + "\n")  # truncated by a crashed shipper
            continue
        if i == 1400:
            out.write(f"2026/11/20 08:03:11 [error] upstream timed out, client phone {mobile()}\n")
            continue
        out.write(line + "\n")


if __name__ == "__main__":
    main()
