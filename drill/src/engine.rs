//! Which database a target or restored copy runs: it picks the wire protocol of the SQL
//! checks, the client tools and the environment of `command` checks.

use std::fmt;
use std::str::FromStr;

/// The engine of a [`crate::Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// PostgreSQL (also Aurora PostgreSQL): libpq protocol, `psql`/`pg_restore`, `PG*`.
    #[default]
    Postgres,
    /// MySQL (also Aurora MySQL): MySQL protocol, the `mysql` client first, `MYSQL_*`.
    Mysql,
    /// MariaDB: MySQL protocol, the `mariadb` client first, `MYSQL_*`.
    Mariadb,
}

/// The names `target { engine }` takes.
pub const ENGINES: &[&str] = &["postgres", "mysql", "mariadb"];

impl Engine {
    /// True for MySQL and MariaDB: the MySQL protocol and tools.
    pub fn is_mysql(self) -> bool {
        matches!(self, Engine::Mysql | Engine::Mariadb)
    }

    /// The engine of an RDS `Engine` value (`postgres`, `aurora-postgresql`, `mysql`,
    /// `aurora-mysql`, `aurora` (Aurora MySQL 1), `mariadb`); `None` for engines whose
    /// checks drkit cannot run (Oracle, SQL Server, Db2).
    pub fn from_rds(engine: &str) -> Option<Engine> {
        match engine {
            "postgres" | "aurora-postgresql" => Some(Engine::Postgres),
            "mysql" | "aurora-mysql" | "aurora" => Some(Engine::Mysql),
            "mariadb" => Some(Engine::Mariadb),
            _ => None,
        }
    }

    /// The default port of its servers.
    pub fn default_port(self) -> u16 {
        if self.is_mysql() {
            3306
        } else {
            5432
        }
    }
}

impl FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Engine, String> {
        match s {
            "postgres" => Ok(Engine::Postgres),
            "mysql" => Ok(Engine::Mysql),
            "mariadb" => Ok(Engine::Mariadb),
            _ => Err(format!(
                "engine = {s:?}: use one of {}",
                ENGINES
                    .iter()
                    .map(|e| format!("\"{e}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_engine_names_map_to_a_protocol() {
        assert_eq!(Engine::from_rds("aurora-mysql"), Some(Engine::Mysql));
        assert_eq!(Engine::from_rds("mariadb"), Some(Engine::Mariadb));
        assert_eq!(
            Engine::from_rds("aurora-postgresql"),
            Some(Engine::Postgres)
        );
        assert_eq!(Engine::from_rds("sqlserver-se"), None);
        for name in ENGINES {
            assert_eq!(name.parse::<Engine>().unwrap().to_string(), *name);
        }
        assert!("MySQL8"
            .parse::<Engine>()
            .unwrap_err()
            .contains("\"mariadb\""));
    }
}
