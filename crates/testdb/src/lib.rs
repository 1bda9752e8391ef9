//! Tests only: a throwaway PostgreSQL database per test, created in the server named by
//! `DATABASE_URL` (which `make test` sets) and dropped when the value is dropped, so tests run
//! in parallel without seeing each other's rows.

#![forbid(unsafe_code)]

use tokio_postgres::NoTls;

/// The server tests use; `make test` finds or starts one.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!("DATABASE_URL is not set: run the tests with `make test`, or export a PostgreSQL URL whose user may create databases")
    })
}

/// A database of its own; `url` connects to it.
pub struct TestDatabase {
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    /// Creates an empty database (blocking: usable from sync and async tests alike).
    pub fn create() -> Self {
        let server = server_url();
        let name = format!("frontdesk_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let sql = format!("CREATE DATABASE {name}");
        on_server(&server, sql);
        Self {
            url: url_with_database(&server, &name),
            name,
            server,
        }
    }
}

impl TestDatabase {
    /// Runs a query in this database and returns its rows (blocking, like [`Self::create`]).
    pub fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        let (url, sql) = (self.url.clone(), sql.to_owned());
        blocking(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .expect("cannot reach the test database");
            tokio::spawn(connection);
            client.query(&sql, &[]).await.expect("test query")
        })
    }
}

impl TestDatabase {
    /// Runs a statement in this database; the server's refusal comes back as its SQLSTATE.
    pub fn execute(&self, sql: &str) -> Result<u64, String> {
        let (url, sql) = (self.url.clone(), sql.to_owned());
        blocking(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .expect("cannot reach the test database");
            tokio::spawn(connection);
            client.execute(&sql, &[]).await.map_err(|e| {
                e.code()
                    .map_or_else(|| e.to_string(), |c| c.code().to_owned())
            })
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        on_server(
            &self.server,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on the server's own database, on a thread of its own: a test's runtime
/// may be single-threaded or already shutting down when this runs.
fn on_server(server: &str, sql: String) {
    let server = server.to_owned();
    blocking(async move {
        let (client, connection) = tokio_postgres::connect(&server, NoTls)
            .await
            .expect("cannot reach the PostgreSQL in DATABASE_URL");
        tokio::spawn(connection);
        client
            .batch_execute(&sql)
            .await
            .expect("database statement");
    });
}

/// Runs `work` to completion on a thread and runtime of its own.
fn blocking<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work)
    })
    .join()
    .expect("database thread")
}

/// `server` (a `postgres://` URL) pointing at database `name` instead.
fn url_with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::url_with_database;

    #[test]
    fn database_name_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            url_with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(url_with_database("postgres://h", "t1"), "postgres://h/t1");
    }
}
