#![deny(warnings)]

use std::sync::Arc;

use spread::{Dict, RemoteError, RemoteReference, Value, remote};

struct Root {
    prefix: String,
}

#[remote]
impl Root {
    async fn echo(&self, x: Value) -> Value {
        x
    }

    /// Renamed on the wire.
    #[pb(name = "greet")]
    async fn say_hello(&self, name: String, punctuation: Option<String>) -> String {
        format!("{}{name}{}", self.prefix, punctuation.unwrap_or_default())
    }

    async fn divide(&self, a: f64, b: f64) -> Result<f64, RemoteError> {
        if b == 0.0 { Err(RemoteError::new("builtins.ZeroDivisionError", "division by zero")) } else { Ok(a / b) }
    }

    async fn call_back(&self, target: RemoteReference, kwargs: Dict) -> Result<Value, RemoteError> {
        let _ = kwargs;
        target.call_remote("ping", vec![]).await.map_err(|e| RemoteError::value_error(e.to_string()))
    }

    async fn nothing(&self) {}
}

struct Cache;

#[remote(cache)]
impl Cache {
    async fn add_duck(&self, duck: String) {
        let _ = duck;
    }
}

fn main() {
    let _: Arc<dyn spread::Referenceable> = Arc::new(Root { prefix: String::new() });
    let _: Arc<dyn spread::RemoteCache> = Arc::new(Cache);
}
