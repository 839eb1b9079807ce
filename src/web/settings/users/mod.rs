//! The Users tab: admins add users, change roles, disable accounts and reset passwords.

mod password;

use password::{new_password, new_password_page, show_password_once};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use super::confirm::{self, Confirmation};
use crate::actions;
use crate::db::users::User;
use crate::db::{Db, StoreError, users};
use crate::domain::{Email, Role};
use crate::secrets::secret_box::SecretBox;
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::routes::{Access, Page, get, post};
use crate::web::session::{CurrentUser, UserSession};
use crate::web::{HtmlForm, render, see_other};

pub fn pages() -> Vec<Page> {
    use Access::Admin;
    vec![
        get("/settings/users", Admin, list),
        get("/settings/users/password", Admin, new_password_page),
        post("/settings/users", Admin, add),
        get("/settings/users/{id:[0-9]+}/role", Admin, confirm_role),
        post("/settings/users/{id:[0-9]+}/role", Admin, change_role),
        get(
            "/settings/users/{id:[0-9]+}/disable",
            Admin,
            confirm_disable,
        ),
        post("/settings/users/{id:[0-9]+}/disable", Admin, disable),
        post("/settings/users/{id:[0-9]+}/enable", Admin, enable),
        get(
            "/settings/users/{id:[0-9]+}/password",
            Admin,
            confirm_reset_password,
        ),
        post(
            "/settings/users/{id:[0-9]+}/password",
            Admin,
            reset_password,
        ),
    ]
}

#[derive(Template)]
#[template(path = "settings/users/list.html")]
struct UsersPage {
    layout: Layout,
    title: String,
    tab: Tab,
    users: Vec<UserRow>,
    email: String,
    role: String,
    email_error: Option<String>,
}

struct UserRow {
    id: i64,
    email: String,
    role: Role,
    disabled: bool,
    created_at: String,
    is_you: bool,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct AddForm {
    email: String,
    role: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

async fn list(db: web::Data<Db>, layout: Layout) -> Result<HttpResponse, AppError> {
    let page = users_page(&db, layout, AddForm::default(), None).await?;
    render(StatusCode::OK, &page)
}

async fn add(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    admin: CurrentUser,
    session: UserSession,
    layout: Layout,
    HtmlForm(form): HtmlForm<AddForm>,
) -> Result<HttpResponse, AppError> {
    let role = Role::parse(&form.role).unwrap_or(Role::Support);
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            let page = users_page(&db, layout, form, Some(error.to_string())).await?;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (password, parsed) = new_password()?;
    let created = actions::users::create(&db, &admin.actor(), &email, role, parsed, "").await;
    if let Err(StoreError::EmailTaken) = created {
        let message = "A user with this email already exists.".to_owned();
        let page = users_page(&db, layout, form, Some(message)).await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    created?;
    show_password_once(&session, &secrets, email.to_string(), &password, true)
}

async fn confirm_role(
    db: web::Data<Db>,
    admin: CurrentUser,
    layout: Layout,
    id: web::Path<i64>,
    query: web::Query<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let user = other_user(&db, &admin, id.into_inner()).await?;
    // Without a role asked for, the other one: the list's button switches it.
    let role = match query.role.trim() {
        "" if user.role.is_admin() => Role::Support,
        "" => Role::Admin,
        asked => Role::parse(asked).map_err(|e| AppError::BadRequest(e.to_string()))?,
    };
    let consequence = if role.is_admin() {
        "They will be able to change webhooks, users and API tokens, from their next request on."
    } else {
        "They keep read-only access and lose every admin action from their next request on."
    };
    confirm::ask(
        layout,
        Tab::Users,
        Confirmation {
            question: format!("Make {} {}?", user.email, role.label()),
            consequence: consequence.into(),
            url: None,
            notes: Vec::new(),
            action: format!("/settings/users/{}/role", user.id),
            fields: vec![("role", role.key().to_owned())],
            confirm: format!("Make {}", role.label()),
            danger: false,
            cancel_href: "/settings/users".into(),
        },
    )
}

async fn confirm_disable(
    db: web::Data<Db>,
    admin: CurrentUser,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = other_user(&db, &admin, id.into_inner()).await?;
    confirm::ask(
        layout,
        Tab::Users,
        Confirmation {
            question: format!("Disable {}?", user.email),
            consequence: "They are signed out everywhere at once and cannot sign in until an \
                          admin enables them again."
                .into(),
            url: None,
            notes: Vec::new(),
            action: format!("/settings/users/{}/disable", user.id),
            fields: Vec::new(),
            confirm: "Disable user".into(),
            danger: true,
            cancel_href: "/settings/users".into(),
        },
    )
}

async fn confirm_reset_password(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = users::find(db.reader(), id.into_inner()).await?;
    confirm::ask(
        layout,
        Tab::Users,
        Confirmation {
            question: format!("Reset the password of {}?", user.email),
            consequence: "A new password is generated and shown to you once. Their current \
                          password stops working and they are signed out everywhere."
                .into(),
            url: None,
            notes: Vec::new(),
            action: format!("/settings/users/{}/password", user.id),
            fields: Vec::new(),
            confirm: "Reset password".into(),
            danger: true,
            cancel_href: "/settings/users".into(),
        },
    )
}

async fn change_role(
    db: web::Data<Db>,
    admin: CurrentUser,
    id: web::Path<i64>,
    HtmlForm(form): HtmlForm<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let role = Role::parse(&form.role).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let user = other_user(&db, &admin, id.into_inner()).await?;
    actions::users::change_role(&db, &admin.actor(), user.id, role).await?;
    Flash::success(format!("{} is now {}", user.email, role.label()));
    Ok(see_other("/settings/users"))
}

async fn disable(
    db: web::Data<Db>,
    admin: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = other_user(&db, &admin, id.into_inner()).await?;
    actions::users::set_disabled(&db, &admin.actor(), user.id, true).await?;
    Flash::success(format!("{} is disabled and signed out", user.email));
    Ok(see_other("/settings/users"))
}

async fn enable(
    db: web::Data<Db>,
    admin: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = other_user(&db, &admin, id.into_inner()).await?;
    actions::users::set_disabled(&db, &admin.actor(), user.id, false).await?;
    Flash::success(format!("{} can sign in again", user.email));
    Ok(see_other("/settings/users"))
}

async fn reset_password(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    admin: CurrentUser,
    session: UserSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = users::find(db.reader(), id.into_inner()).await?;
    let (password, parsed) = new_password()?;
    actions::users::reset_password(&db, &admin.actor(), user.id, parsed).await?;
    show_password_once(&session, &secrets, user.email, &password, false)
}

async fn users_page(
    db: &Db,
    layout: Layout,
    form: AddForm,
    email_error: Option<String>,
) -> Result<UsersPage, AppError> {
    let you = layout.user.as_ref().map(|user| user.id);
    let users = users::list(db.reader())
        .await?
        .into_iter()
        .map(|user| UserRow {
            is_you: Some(user.id) == you,
            created_at: user.created_at.absolute(),
            id: user.id,
            email: user.email,
            role: user.role,
            disabled: user.disabled,
        })
        .collect();
    Ok(UsersPage {
        layout,
        title: "Users".into(),
        tab: Tab::Users,
        users,
        email: form.email,
        role: form.role,
        email_error,
    })
}

/// Admins change other accounts here; changing your own role or disabling yourself
/// would lock you out mid-task.
async fn other_user(db: &Db, admin: &CurrentUser, id: i64) -> Result<User, AppError> {
    if id == admin.id {
        return Err(AppError::BadRequest(
            "You cannot change your own role or disable yourself; ask another admin.".into(),
        ));
    }
    Ok(users::find(db.reader(), id).await?)
}
