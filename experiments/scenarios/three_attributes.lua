-- experiments/scenarios/three_attributes.lua: 34 scenarios with three attributes per scenario
-- (the study's have five), the contexts of experiments/new-domain.lua (--contexts up to 34). Same layout as
-- library.lua: {short_name=, question=, attributes = {{name=, units=, min=, max=}, ...}}.
local list = {}

local function scenario(short_name, question, attrs)
  local attributes = {}
  for i, a in ipairs(attrs) do attributes[i] = { name = a[1], units = a[2], min = a[3], max = a[4] } end
  list[#list + 1] = { short_name = short_name, question = question, attributes = attributes }
end

scenario("bike_commutes", "Which bike commute would you prefer?", {
  { "distance", "km", 2, 25 }, { "elevation_gain", "meters", 0, 400 }, { "protected_lanes_share", "percent", 0, 100 } })
scenario("job_offers", "Which job offer would you accept?", {
  { "salary", "dollars per year", 40000, 160000 }, { "commute_time", "minutes", 5, 90 },
  { "paid_vacation", "days per year", 10, 35 } })
scenario("rental_cars", "Which rental car would you book?", {
  { "daily_price", "dollars", 25, 150 }, { "fuel_economy", "km per liter", 8, 25 },
  { "trunk_volume", "liters", 200, 600 } })
scenario("coffee_shops", "Which coffee shop would you go to?", {
  { "walking_distance", "minutes", 1, 30 }, { "latte_price", "dollars", 2, 7 }, { "seating", "seats", 4, 80 } })
scenario("hiking_trails", "Which hiking trail would you choose?", {
  { "length", "km", 3, 30 }, { "elevation_gain", "meters", 50, 1500 }, { "rating", "stars", 1, 5 } })
scenario("phone_plans", "Which phone plan would you sign up for?", {
  { "monthly_price", "dollars", 10, 90 }, { "data_allowance", "GB", 1, 100 }, { "contract_length", "months", 0, 24 } })
scenario("gym_memberships", "Which gym membership would you buy?", {
  { "monthly_fee", "dollars", 10, 150 }, { "travel_time", "minutes", 2, 45 },
  { "classes_per_week", "classes", 0, 60 } })
scenario("flights", "Which flight would you book?", {
  { "ticket_price", "dollars", 80, 900 }, { "layovers", "stops", 0, 3 }, { "legroom", "cm", 70, 90 } })
scenario("restaurants", "Which restaurant would you book for dinner?", {
  { "price_per_person", "dollars", 15, 150 }, { "wait_time", "minutes", 0, 60 },
  { "review_score", "points out of 10", 5, 10 } })
scenario("laptops", "Which laptop would you buy?", {
  { "price", "dollars", 400, 3000 }, { "battery_life", "hours", 4, 20 }, { "weight", "kg", 0.9, 3 } })
scenario("apartments", "Which apartment would you rent?", {
  { "monthly_rent", "dollars", 700, 3500 }, { "floor_area", "square meters", 25, 120 },
  { "distance_to_center", "km", 0.5, 20 } })
scenario("concert_seats", "Which concert seat would you buy?", {
  { "ticket_price", "dollars", 30, 400 }, { "distance_to_stage", "meters", 5, 120 },
  { "view_quality", "points out of 10", 1, 10 } })
scenario("headphones", "Which headphones would you buy?", {
  { "price", "dollars", 20, 500 }, { "battery_life", "hours", 5, 60 }, { "weight", "grams", 100, 400 } })
scenario("hotels", "Which hotel would you book?", {
  { "nightly_rate", "dollars", 50, 450 }, { "distance_to_beach", "meters", 0, 3000 },
  { "guest_rating", "points out of 10", 5, 10 } })
scenario("internet_plans", "Which internet plan would you choose?", {
  { "monthly_price", "dollars", 20, 120 }, { "download_speed", "Mbps", 50, 2000 }, { "setup_fee", "dollars", 0, 200 } })
scenario("moving_companies", "Which moving company would you hire?", {
  { "quote", "dollars", 500, 5000 }, { "review_score", "stars", 1, 5 }, { "earliest_date", "days from now", 1, 60 } })

scenario("dentists", "Which dentist would you book?", {
  { "waiting_time", "days", 1, 60 }, { "checkup_price", "dollars", 40, 250 }, { "distance", "km", 1, 30 } })
scenario("streaming_services", "Which streaming service would you subscribe to?", {
  { "monthly_price", "dollars", 5, 25 }, { "catalogue_size", "titles", 500, 10000 },
  { "ads_per_hour", "minutes", 0, 12 } })
scenario("used_cars", "Which used car would you buy?", {
  { "price", "dollars", 3000, 30000 }, { "mileage", "km", 10000, 250000 }, { "age", "years", 1, 15 } })
scenario("daycare_centres", "Which daycare centre would you choose?", {
  { "monthly_fee", "dollars", 400, 2500 }, { "children_per_carer", "children", 3, 12 },
  { "travel_time", "minutes", 2, 45 } })
scenario("running_shoes", "Which running shoes would you buy?", {
  { "price", "dollars", 40, 250 }, { "weight", "grams", 180, 400 }, { "cushioning", "mm", 15, 45 } })
scenario("bakeries", "Which bakery would you buy bread from?", {
  { "loaf_price", "dollars", 2, 10 }, { "walking_distance", "minutes", 1, 30 }, { "varieties", "breads", 2, 40 } })
scenario("language_courses", "Which language course would you sign up for?", {
  { "fee", "dollars", 50, 900 }, { "class_size", "students", 3, 30 }, { "hours_per_week", "hours", 1, 15 } })
scenario("campsites", "Which campsite would you book?", {
  { "nightly_fee", "dollars", 5, 60 }, { "distance_to_lake", "meters", 0, 3000 },
  { "pitch_size", "square meters", 40, 200 } })
scenario("washing_machines", "Which washing machine would you buy?", {
  { "price", "dollars", 250, 1500 }, { "capacity", "kg", 5, 12 }, { "noise", "decibels", 45, 80 } })
scenario("car_insurance", "Which car insurance policy would you take out?", {
  { "annual_premium", "dollars", 300, 2500 }, { "deductible", "dollars", 0, 2000 }, { "claim_rating", "stars", 1, 5 } })
scenario("plumbers", "Which plumber would you call?", {
  { "hourly_rate", "dollars", 40, 200 }, { "arrival_time", "hours", 1, 48 }, { "review_score", "stars", 1, 5 } })
scenario("bookshops", "Which bookshop would you visit?", {
  { "walking_distance", "minutes", 1, 40 }, { "discount", "percent", 0, 30 },
  { "titles_in_stock", "books", 500, 50000 } })
scenario("parking_spots", "Which parking spot would you rent?", {
  { "monthly_fee", "dollars", 30, 400 }, { "walk_to_home", "minutes", 0, 20 }, { "covered_share", "percent", 0, 100 } })
scenario("bank_accounts", "Which bank account would you open?", {
  { "monthly_fee", "dollars", 0, 25 }, { "interest_rate", "percent", 0, 5 }, { "branch_distance", "km", 0, 50 } })
scenario("ski_resorts", "Which ski resort would you visit?", {
  { "lift_pass_price", "dollars", 30, 200 }, { "pistes", "km", 10, 300 }, { "travel_time", "hours", 1, 10 } })
scenario("pizza_places", "Which pizza place would you order from?", {
  { "pizza_price", "dollars", 8, 30 }, { "delivery_time", "minutes", 15, 90 }, { "rating", "stars", 1, 5 } })
scenario("electricity_plans", "Which electricity plan would you choose?", {
  { "price_per_kwh", "cents", 10, 50 }, { "renewable_share", "percent", 0, 100 },
  { "contract_length", "months", 0, 36 } })
scenario("swimming_pools", "Which swimming pool would you go to?", {
  { "entry_fee", "dollars", 2, 20 }, { "lane_length", "meters", 15, 50 }, { "travel_time", "minutes", 2, 60 } })

return list
