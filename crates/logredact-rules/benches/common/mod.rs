//! What the rule benches share: the representative event and the naive
//! approach the engine is measured against.

/// A representative event, about 1 KB.
pub const EVENT: &str = r#"{"@timestamp":"2026-11-20T08:15:30.123Z","ts_ms":1795162530123,"host":"portal-web-03","service":"citizen-portal","level":"INFO","trace_id":"1842785349445926","request":{"method":"POST","path":"/api/v1/applications","query":"phone=13812345678&email=zhang.wei%40example.com&page=1","headers":{"user-agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36","x-forwarded-for":"10.22.77.13","referer":"https://portal.gov.example/login?next=%2Fapplications"},"bytes":2317},"response":{"status":200,"bytes":51173,"duration_ms":479},"user":{"uid":"u-820849","name":"王伟","id_no":"11010519491231002X","phone":13912345678,"email":"wang.wei@mail.example.cn"},"action":"submit_application","order_no":"320102198603052142","message":"用户王伟(身份证11010519491231002X)通过手机13912345678提交了申请，支付卡号6222 0212 3456 7890 128","payment":{"card_no":"4111111111111111","amount":3386.27}}"#;

/// The straightforward way: a serde_json tree, four regexes on every string.
pub struct Naive {
    patterns: Vec<regex::Regex>,
}

impl Naive {
    pub fn new() -> Naive {
        let patterns = [
            r"(?-u:\b)[1-9][0-9]{16}[0-9Xx](?-u:\b)",
            r"(?-u:\b)1[3-9][0-9]{9}(?-u:\b)",
            r"(?-u:\b)[0-9]{15,19}(?-u:\b)",
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        ];
        Naive {
            patterns: patterns
                .iter()
                .map(|p| regex::Regex::new(p).expect("valid"))
                .collect(),
        }
    }

    pub fn apply(&self, line: &str, out: &mut Vec<u8>) {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        self.walk(&mut v);
        serde_json::to_writer(out, &v).expect("in memory");
    }

    fn walk(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                for p in &self.patterns {
                    if p.is_match(s) {
                        *s = p.replace_all(s, "***").into_owned();
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.walk(x)),
            _ => {}
        }
    }
}
