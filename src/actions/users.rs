//! Accounts: adding users, the first admin, roles, disabling and password resets.

use super::{Actor, Audit};
use crate::db::{Db, StoreError, sessions, users};
use crate::domain::{AuditAction, Email, Password, Role};
use crate::secrets::password::hash_password;

/// Adds a user; `how` says in the audit log where they came from. Returns the new id.
pub async fn create(
    db: &Db,
    actor: &Actor,
    email: &Email,
    role: Role,
    password: Password,
    how: &str,
) -> Result<i64, StoreError> {
    let hash = hash_password(password).await;
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let id = users::create(&mut tx, email, role, &hash, now).await?;
    Audit {
        actor,
        action: AuditAction::UserCreated,
        target_type: "user",
        target: email.as_str(),
        summary: format!("role {}{how}", role.label()),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates the first admin, only while there is no user at all (checked in the write
/// transaction, so two cannot both succeed). `None` when someone was first already.
pub async fn create_first_admin(
    db: &Db,
    actor: &Actor,
    email: &Email,
    password: Password,
    how: &str,
) -> Result<Option<i64>, StoreError> {
    let hash = hash_password(password).await;
    let now = db.now();
    let mut tx = db.begin_write().await?;
    if users::count(&mut tx).await? > 0 {
        return Ok(None);
    }
    let id = users::create(&mut tx, email, Role::Admin, &hash, now).await?;
    Audit {
        actor,
        action: AuditAction::Setup,
        target_type: "user",
        target: email.as_str(),
        summary: format!("first admin, {how}"),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

pub async fn change_role(db: &Db, actor: &Actor, id: i64, role: Role) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let user = users::find(&mut tx, id).await?;
    users::set_role(&mut tx, id, role, now).await?;
    keep_an_admin(&mut tx).await?;
    Audit {
        actor,
        action: AuditAction::UserRoleChanged,
        target_type: "user",
        target: &user.email,
        summary: format!("{} → {}", user.role.label(), role.label()),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A disabled user is signed out everywhere at once, not when a session happens to expire.
pub async fn set_disabled(
    db: &Db,
    actor: &Actor,
    id: i64,
    disabled: bool,
) -> Result<(), StoreError> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let user = users::find(&mut tx, id).await?;
    users::set_disabled(&mut tx, id, disabled, now).await?;
    let (action, summary) = if disabled {
        keep_an_admin(&mut tx).await?;
        sessions::delete_for_user(&mut tx, id).await?;
        (AuditAction::UserDisabled, "signed out everywhere")
    } else {
        (AuditAction::UserEnabled, "")
    };
    Audit {
        actor,
        action,
        target_type: "user",
        target: &user.email,
        summary: summary.into(),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The old password may be known to someone else: its sessions end too.
pub async fn reset_password(
    db: &Db,
    actor: &Actor,
    id: i64,
    password: Password,
) -> Result<(), StoreError> {
    let hash = hash_password(password).await;
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let user = users::find(&mut tx, id).await?;
    users::set_password_hash(&mut tx, id, &hash, now).await?;
    sessions::delete_for_user(&mut tx, id).await?;
    Audit {
        actor,
        action: AuditAction::UserPasswordReset,
        target_type: "user",
        target: &user.email,
        summary: "signed out everywhere".into(),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A user chose a new password (knowing the current one): every other session of theirs
/// ends, since the old password may be known to someone else; the caller starts the
/// current browser's session afresh.
pub async fn change_own_password(
    db: &Db,
    id: i64,
    email: &str,
    password: Password,
) -> Result<(), StoreError> {
    let hash = hash_password(password).await;
    let now = db.now();
    let mut tx = db.begin_write().await?;
    users::set_password_hash(&mut tx, id, &hash, now).await?;
    sessions::delete_for_user(&mut tx, id).await?;
    Audit {
        actor: &Actor::User(email.to_owned()),
        action: AuditAction::PasswordChanged,
        target_type: "user",
        target: email,
        summary: "other sessions signed out".into(),
    }
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses (and so rolls back) a change that would leave no admin able to sign in.
async fn keep_an_admin(conn: &mut crate::db::WriteTx) -> Result<(), StoreError> {
    if users::count_active_admins(conn).await? == 0 {
        return Err(StoreError::NoActiveAdminLeft);
    }
    Ok(())
}
