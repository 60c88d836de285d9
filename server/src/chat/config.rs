//! Fixed settings of the chat server, shared by all cores.

#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub network: String,
    pub motd: Option<Vec<String>>,
    pub password: Option<String>,
    pub sendq: usize,
    pub cores: usize,
    pub created: String,
    /// OPER credentials: (name, password).
    pub opers: Vec<(String, String)>,
}

impl Config {
    pub fn new(name: &str, cores: usize) -> Self {
        Config {
            name: name.to_string(),
            network: "uringo".into(),
            motd: None,
            password: None,
            sendq: 1 << 20,
            cores,
            created: "today".into(),
            opers: Vec::new(),
        }
    }
}
