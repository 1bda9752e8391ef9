//! Circuit breakers, timeouts and retry budgets for frontdesk upstreams
