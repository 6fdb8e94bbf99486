//! One schema for both backends, written by hand over the types SQLite and
//! PostgreSQL share: ids as BigInt, times as UTC Timestamp, enums as Text.

diesel::table! {
    organisations (id) {
        id -> BigInt,
        code -> Text,
        kind -> Text,
        name -> Text,
        name_key -> Text,
        province -> Nullable<Text>,
        size -> BigInt,
        latitude -> Double,
        longitude -> Double,
        contact_email -> Nullable<Text>,
        language -> Text,
        monthly_capacity -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        active -> Bool,
        merged_into -> Nullable<BigInt>,
        password_login -> Bool,
    }
}

diesel::table! {
    topics (id) {
        id -> BigInt,
        slug -> Text,
        name_nl -> Text,
        name_en -> Text,
        description_nl -> Text,
        description_en -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        active -> Bool,
    }
}

diesel::table! {
    expertise (organisation_id, topic_id) {
        organisation_id -> BigInt,
        topic_id -> BigInt,
        level -> Integer,
        summary -> Text,
        since_year -> Nullable<Integer>,
        willing_to_host -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    topic_follows (user_id, topic_id) {
        user_id -> BigInt,
        topic_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(topic_follows -> topics (topic_id));

diesel::table! {
    unsubscribe_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    digests (id) {
        id -> BigInt,
        user_id -> BigInt,
        month -> Text,
        items -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    digest_leaders (id) {
        id -> BigInt,
        topic_id -> BigInt,
        month -> Text,
        hosts -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(expertise -> organisations (organisation_id));
diesel::joinable!(expertise -> topics (topic_id));
diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    topics,
    expertise,
    topic_follows,
    unsubscribe_tokens,
    digests,
    digest_leaders,
    users,
    audit_log,
    partner_clients,
    directory_version,
    outbox,
    visits,
    link_tokens,
    lessons,
    followups,
    maintenance,
    account_links,
    sessions,
    recovery_codes,
    sso_subjects,
    sso_domains,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts
);

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        organisation_id -> Nullable<BigInt>,
        password_hash -> Text,
        active -> Bool,
        token_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        totp_secret -> Nullable<Text>,
        totp_pending -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        address -> Nullable<Text>,
        subject -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    partner_clients (id) {
        id -> BigInt,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        contact_email -> Nullable<Text>,
    }
}

diesel::table! {
    directory_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        idempotency_key -> Text,
        recipient -> Text,
        language -> Text,
        template -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        attachments -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        given_up_at -> Nullable<Timestamp>,
        list_unsubscribe -> Nullable<Text>,
    }
}
diesel::table! {
    maintenance (name) {
        name -> Text,
        last_run_at -> Timestamp,
    }
}

diesel::table! {
    visits (id) {
        id -> BigInt,
        requester_id -> BigInt,
        host_id -> BigInt,
        topic_id -> BigInt,
        requested_by -> BigInt,
        state -> Text,
        goal -> Text,
        participants -> Integer,
        proposed_dates -> Text,
        visit_date -> Nullable<Date>,
        reason -> Nullable<Text>,
        cancelled_by -> Nullable<Text>,
        sequence -> Integer,
        expires_at -> Timestamp,
        nudged_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        lessons_reminded_at -> Nullable<Timestamp>,
        followed_up_at -> Nullable<Timestamp>,
        closed_because -> Nullable<Text>,
    }
}

diesel::table! {
    link_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        purpose -> Text,
        visit_id -> BigInt,
        organisation_id -> BigInt,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(link_tokens -> visits (visit_id));

diesel::table! {
    lessons (id) {
        id -> BigInt,
        visit_id -> BigInt,
        side -> Text,
        organisation_id -> BigInt,
        host_id -> BigInt,
        topic_id -> BigInt,
        visit_date -> Date,
        author_id -> Nullable<BigInt>,
        situation -> Text,
        strengths -> Text,
        mistakes -> Text,
        recommendations -> Text,
        hours_saved -> Integer,
        rating -> SmallInt,
        recommend -> Nullable<Bool>,
        publish -> Text,
        search_text -> Text,
        submitted_at -> Timestamp,
    }
}

diesel::joinable!(lessons -> visits (visit_id));

diesel::table! {
    followups (visit_id) {
        visit_id -> BigInt,
        applied -> Text,
        changes -> Text,
        answered_at -> Timestamp,
    }
}

diesel::table! {
    account_links (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(account_links -> users (user_id));

diesel::table! {
    sessions (id) {
        id -> BigInt,
        sid -> Text,
        user_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        address -> Nullable<Text>,
        user_agent -> Text,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(recovery_codes -> users (user_id));

diesel::table! {
    sso_subjects (id) {
        id -> BigInt,
        provider -> Text,
        subject -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sso_subjects -> users (user_id));

diesel::table! {
    sso_domains (id) {
        id -> BigInt,
        domain -> Text,
        organisation_id -> BigInt,
        provider -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sso_domains -> organisations (organisation_id));

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        partner_id -> BigInt,
        url -> Text,
        description -> Text,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        paused -> Bool,
        held_by_admin -> Bool,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(webhook_endpoints -> partner_clients (partner_id));

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        webhook_id -> Text,
        event_type -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        given_up_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        status -> Nullable<Integer>,
        latency_ms -> Integer,
        response -> Text,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
